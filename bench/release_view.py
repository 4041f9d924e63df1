"""The release view of a dashboard (issue #15): one GraphQL query against the REST calls it replaces.

A view is everything a release page shows: the release with its features and tasks, approvals, progress,
allowed actions and per-environment state, its team with members, its workflow's stages, its latest
deployments and its history. Over REST that is the release detail, then (with the ids the detail names) the
team, the workflow, `deployments?release=` and `history`, one after the other on one keep-alive connection,
as a client that needs the detail's ids does; over GraphQL it is one `POST /graphql`. Both scenarios run in
the same benchmark run, at the same concurrency, over the same releases; a "request" here is one view,
so `rps` is views per second and the latencies are per view.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUERY = """query ReleaseView($id: ID!) {
  release(id: $id) {
    id name version description status revision target_date created_by created_at updated_at allowed_actions
    progress { features_total features_done tasks_total tasks_done percent_complete }
    features { name description status tasks { title status assignee } }
    approvals { user decision comment at }
    team { id name members { name email role username } }
    workflow { id name stages { environment requires_approval } }
    environments { environment name tier health is_current current_release
      deployment { id kind status started_at finished_at deployed_by } }
    deployments(limit: 20) { id environment kind status started_at finished_at deployed_by notes }
    history(limit: 20) { seq at actor action object_type object_id }
  }
}"""


@dataclass
class ReleaseViews:
    """`connections` client threads loading views of `release_ids` in turn for `seconds`, by REST or GraphQL."""

    host: str
    port: int
    token: str
    release_ids: list[str]
    connections: int
    via: str  # "rest" or "graphql"
    latencies: list[float] = field(default_factory=list)
    calls: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(
        self, seconds: float, warmup: float, summarize: Callable[[list[float]], dict[str, float]]
    ) -> dict[str, Any]:
        """Views for `seconds` after `warmup`; `summarize`: run.py's percentiles, so both report alike."""
        if warmup > 0:
            self._drive(warmup)
        self.latencies, self.calls, self.statuses, self.errors, self.error_samples = [], 0, {}, 0, []
        started = time.perf_counter()
        self._drive(seconds)
        elapsed = time.perf_counter() - started
        return {
            "requests": len(self.latencies),
            "http_requests": self.calls,
            "seconds": round(elapsed, 2),
            "rps": round(len(self.latencies) / elapsed, 1),
            "latency_ms": summarize(sorted(self.latencies)),
            "errors": self.errors,
            "statuses": dict(sorted(self.statuses.items())),
            "error_samples": self.error_samples[:5],
        }

    def _drive(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._client, args=(number, deadline), daemon=True)
            for number in range(self.connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)

    def _client(self, number: int, deadline: float) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        index = number * 7919
        view = self._graphql_view if self.via == "graphql" else self._rest_view
        while time.monotonic() < deadline:
            release_id = self.release_ids[index % len(self.release_ids)]
            index += 1
            started = time.perf_counter()
            ok = view(conn, release_id)
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                self.latencies.append(elapsed)
                self.errors += 0 if ok else 1
        conn.close()

    def _call(self, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            data, status = response.read(), response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            data, status = str(exc).encode(), 599
        with self.lock:
            self.calls += 1
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if status != 200:
            self._sample(f"{method} {path} {status}: {data[:200].decode('utf-8', 'replace')}")
            return None
        return json.loads(data)

    def _rest_view(self, conn: http.client.HTTPConnection, release_id: str) -> bool:
        detail = self._call(conn, "GET", f"/api/v1/releases/{release_id}")
        if detail is None:
            return False
        paths = [f"/api/v1/deployments?release={release_id}&page_size=20", f"/api/v1/releases/{release_id}/history"]
        paths += [f"/api/v1/teams/{detail['team']}"] if detail.get("team") else []
        paths += [f"/api/v1/workflows/{detail['workflow']}"] if detail.get("workflow") else []
        return all(self._call(conn, "GET", path) is not None for path in paths)

    def _graphql_view(self, conn: http.client.HTTPConnection, release_id: str) -> bool:
        answer = self._call(conn, "POST", "/graphql", {"query": QUERY, "variables": {"id": release_id}})
        if answer is None or answer.get("errors") or not answer.get("data", {}).get("release"):
            self._sample(f"graphql {release_id}: {str(answer)[:200]}")
            return False
        return True

    def _sample(self, text: str) -> None:
        with self.lock:
            if len(self.error_samples) < 20:
                self.error_samples.append(text)
