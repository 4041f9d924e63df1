#!/usr/bin/env python3
"""Benchmark the API against a bare Django baseline and write BENCHMARKS.md (issue #6).

    make bench                        # = .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --duration 5 --datasets 1k      # a quick look
    .venv/bin/python bench/run.py --report-only                   # re-render from bench/results.json

For each dataset: a fresh SQLite database is migrated and filled by `manage.py seed_load`,
gunicorn starts with the production settings (`gunicorn.conf.py`, DEBUG off) and N sync
workers, plus the bare baseline views of `bench/baseline.py` (mounted by `bench.settings`
only), and `wrk` drives each read scenario at a fixed concurrency for a fixed duration
after a short warm-up. The write mix (create → submit → approve → deploy) chains requests,
which wrk cannot, so a small client of threads over `http.client` runs it at the same
concurrency and reports its own latencies. After each scenario the workers' RSS is read.
Results go to bench/results.json, BENCHMARKS.md and bench/latency.png.

Clients authenticate like a production frontend (JWT bearer token; anonymous reads off).
Throttling stays on, with rates raised through its environment variables so a benchmark
is not refused (its counters still cost what they cost in production).

Only loopback traffic, bounded in time: every wrk run and the write mix stop by themselves.
"""

# A developer tool: it runs our own interpreter, git and wrk, and writes typographic signs into Markdown.
# ruff: noqa: S603, S607, RUF001

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = ROOT / "bench-out"
RESULTS = BENCH / "results.json"
REPORT = ROOT / "BENCHMARKS.md"
PLOT = BENCH / "latency.png"
ANALYSIS = BENCH / "analysis.md"
WRK_SCRIPT = BENCH / "wrk" / "report.lua"
HOST = "127.0.0.1"
SEED = 42
WRITER, APPROVER = "bench-writer", "bench-approver"


@dataclass(frozen=True)
class Dataset:
    name: str
    releases: int
    deployments: int
    scenarios: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{_k(self.releases)} releases / {_k(self.deployments)} deployments"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: str  # shown in the report; `{release}` / `{environment}` rotate over ids
    baseline_of: str | None = None


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("list20", "Release list, page of 20", "/api/v1/releases?page_size=20"),
        Scenario("list100", "Release list, page of 100", "/api/v1/releases?page_size=100"),
        Scenario("detail", "Release detail", "/api/v1/releases/{release}"),
        Scenario("analytics", "Release analytics", "/api/v1/releases/analytics"),
        Scenario("dashboard", "Dashboard stats", "/api/v1/dashboard/stats"),
        Scenario("env_status", "Environment status", "/api/v1/environments/{environment}/status"),
        Scenario("write_mix", "Write mix: create → submit → approve → deploy", "(chained, see below)"),
        Scenario("base_list20", "Baseline list, page of 20", "/bench/baseline/releases?page_size=20", "list20"),
        Scenario("base_list100", "Baseline list, page of 100", "/bench/baseline/releases?page_size=100", "list100"),
        Scenario("base_detail", "Baseline detail", "/bench/baseline/releases/{release}", "detail"),
    ]
}
READS = ("list20", "list100", "detail", "base_list20", "base_list100", "base_detail")
AGGREGATES = ("analytics", "dashboard", "env_status")
DATASETS = {
    d.name: d
    for d in [
        # One deployment per release in each, so that growth compares like with like: reads over
        # 1k → 100k releases, aggregates over 10k → 100k deployments.
        Dataset("1k", 1_000, 1_000, READS),
        Dataset("10k", 10_000, 10_000, ("list20", "detail", "base_list20", "base_detail", *AGGREGATES)),
        Dataset("100k", 100_000, 100_000, (*READS, *AGGREGATES, "write_mix")),
    ]
}


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --------------------------------------------------------------------------- environment


def require_tools() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit(
            "bench: `wrk` is not installed. Install Debian's package first:\n"
            "    apt-get update && apt-get install -y wrk\n"
            "(`make bench` does this when run as root.)"
        )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("bench: matplotlib is missing: .venv/bin/pip install -r requirements-dev.txt")
    return wrk


def machine_info(wrk: str) -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu_model = platform.processor()
    mem_kb = 0
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except (OSError, AttributeError):
        pass
    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for dist in ("Django", "djangorestframework", "gunicorn", "djangorestframework-simplejwt", "django-filter"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            versions[dist] = "not installed"
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    versions["wrk"] = wrk_version.split(" Copyright")[0].strip()
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- one dataset


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_rss_mb(self) -> list[float]:
        rss = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            ppid = re.search(r"PPid:\s+(\d+)", text)
            vmrss = re.search(r"VmRSS:\s+(\d+)", text)
            if ppid and vmrss and int(ppid.group(1)) == self.process.pid:
                rss.append(round(int(vmrss.group(1)) / 1024, 1))
        return sorted(rss)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Bench:
    def __init__(self, args: argparse.Namespace, wrk: str) -> None:
        self.args = args
        self.wrk = wrk
        self.python = sys.executable
        self.password = secrets.token_urlsafe(16)
        self.env_base = {
            **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL", "DJANGO_SETTINGS_MODULE")},
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "DEBUG": "false",
            "OPSPORTAL_ANONYMOUS_READ": "false",
            "OPSPORTAL_THROTTLE_ANON": args.throttle_rate,
            "OPSPORTAL_THROTTLE_USER": args.throttle_rate,
            "JWT_ACCESS_MINUTES": "240",
            "WEB_CONCURRENCY": str(args.workers),
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def manage(self, env: dict[str, str], *args: str, capture: bool = False) -> str:
        result = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=False,
            text=True,
            stdout=subprocess.PIPE if capture else None,
        )
        if result.returncode != 0:
            sys.exit(f"bench: manage.py {' '.join(args)} failed (exit {result.returncode})")
        return result.stdout or ""

    def prepare(self, dataset: Dataset) -> tuple[dict[str, str], dict[str, Any]]:
        """A fresh database for the dataset: migrate, seed, users; returns the env and facts about it."""
        OUT.mkdir(exist_ok=True)
        db = OUT / f"{dataset.name}.sqlite3"
        for path in OUT.glob(f"{dataset.name}.sqlite3*"):
            path.unlink()
        env = {**self.env_base, "OPSPORTAL_SQLITE_PATH": str(db)}
        say(f"{dataset.name}: migrating a fresh SQLite database at {db.relative_to(ROOT)}")
        self.manage(env, "migrate", "--noinput", "--verbosity", "0")
        self.manage(env, "createcachetable")
        say(f"{dataset.name}: seed_load --releases {dataset.releases} --deployments {dataset.deployments}")
        started = time.perf_counter()
        self.manage(
            env,
            "seed_load",
            "--releases",
            str(dataset.releases),
            "--deployments",
            str(dataset.deployments),
            "--seed",
            str(SEED),
        )
        seed_seconds = time.perf_counter() - started
        output = self.manage(env, "shell", "-c", SETUP_SNIPPET % self.password, capture=True)
        facts = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
        facts["seed_seconds"] = round(seed_seconds, 1)
        facts["db_mb"] = round(sum(p.stat().st_size for p in OUT.glob(f"{dataset.name}.sqlite3*")) / 2**20, 1)
        return env, facts

    def start_server(self, dataset: Dataset, env: dict[str, str]) -> Server:
        port = free_port()
        log = OUT / f"{dataset.name}-gunicorn.log"
        cmd = [self.python, "-m", "gunicorn"]
        if (ROOT / "gunicorn.conf.py").exists():
            cmd += ["-c", "gunicorn.conf.py"]
        else:
            cmd += ["--access-logfile", "-"]
        cmd += ["--workers", str(self.args.workers), "--bind", f"{HOST}:{port}", "opsportal.wsgi:application"]
        self.server_cmd = shlex.join(["gunicorn", *cmd[3:]]).replace(f":{port}", ":<free port>")
        with log.open("w") as handle:
            process = subprocess.Popen(
                cmd, cwd=ROOT, env={**env, "HOST": HOST, "PORT": str(port)}, stdout=handle, stderr=subprocess.STDOUT
            )
        server = Server(process, port, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                sys.exit(f"bench: gunicorn exited ({process.returncode}); see {log}")
            try:
                status, _ = request(server.port, "GET", "/health")
                if status == 200 and len(server.worker_rss_mb()) >= self.args.workers:
                    return server
            except OSError:
                pass
            time.sleep(0.3)
        server.stop()
        sys.exit(f"bench: gunicorn did not answer /health within 60 s; see {log}")

    def token(self, server: Server, username: str) -> str:
        status, body = request(
            server.port, "POST", "/api/v1/auth/token/", {"username": username, "password": self.password}
        )
        if status != 200:
            sys.exit(f"bench: could not get a JWT for {username}: {status} {body!r}")
        return body["access"]

    def run_dataset(self, dataset: Dataset) -> dict[str, Any]:
        env, facts = self.prepare(dataset)
        server = self.start_server(dataset, env)
        results: dict[str, Any] = {
            "releases": dataset.releases,
            "deployments": dataset.deployments,
            "label": dataset.label,
            "seed_seconds": facts["seed_seconds"],
            "db_mb": facts["db_mb"],
            "scenarios": {},
        }
        try:
            tokens = {WRITER: self.token(server, WRITER), APPROVER: self.token(server, APPROVER)}
            results["rss_idle_mb"] = server.worker_rss_mb()
            for name in self.args.scenarios or dataset.scenarios:
                scenario = SCENARIOS[name]
                say(f"{dataset.name}: {scenario.title} ({self.args.duration:g} s)")
                if name == "write_mix":
                    result = WriteMix(server.port, tokens, self.args).run()
                else:
                    result = self.wrk_run(server, scenario, facts, tokens[WRITER])
                result["rss_mb"] = server.worker_rss_mb()
                results["scenarios"][name] = result
                say(
                    f"    {result['rps']:.0f} req/s, p50 {result['latency_ms']['p50']:.1f} ms, "
                    f"p99 {result['latency_ms']['p99']:.1f} ms, errors {result['errors']}"
                    + (f" {result['statuses']}" if result["errors"] else "")
                )
        finally:
            server.stop()
        return results

    def wrk_run(self, server: Server, scenario: Scenario, facts: dict, token: str) -> dict[str, Any]:
        if "{release}" in scenario.path:
            paths = [scenario.path.format(release=rid) for rid in facts["release_ids"]]
        elif "{environment}" in scenario.path:
            paths = [scenario.path.format(environment=eid) for eid in facts["environment_ids"]]
        else:
            paths = [scenario.path]
        paths_file = OUT / f"paths-{scenario.name}.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        headers = ["-H", "Accept: application/json"]
        if not scenario.name.startswith("base_"):
            headers += ["-H", f"Authorization: Bearer {token}"]
        common = [
            self.wrk,
            "-t",
            str(self.args.threads),
            "-c",
            str(self.args.connections),
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            *headers,
        ]
        env = {**os.environ, "BENCH_PATHS": str(paths_file)}
        if self.args.warmup > 0:
            subprocess.run(
                [*common, "-d", f"{self.args.warmup:g}s", server.base], env=env, capture_output=True, check=False
            )
        log_offset = server.log.stat().st_size
        output = subprocess.run(
            [*common, "-d", f"{self.args.duration:g}s", server.base],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        line = next((x for x in output.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
        if line is None:
            sys.exit(f"bench: wrk printed no summary:\n{output.stdout}\n{output.stderr}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        seconds = raw["duration_us"] / 1e6
        return {
            "requests": raw["requests"],
            "seconds": round(seconds, 2),
            "rps": round(raw["requests"] / seconds, 1),
            "latency_ms": {k: round(v / 1000, 2) for k, v in raw["latency_us"].items()},
            "errors": sum(raw["errors"].values()),
            "error_kinds": {k: v for k, v in raw["errors"].items() if v},
            "statuses": status_counts(server.log, log_offset),
            "paths": len(paths),
        }


SETUP_SNIPPET = """
import json, random
from django.contrib.auth import get_user_model
from environments.models import Environment
from releases.models import Release
User = get_user_model()
for name in ("bench-writer", "bench-approver"):
    User.objects.filter(username=name).delete()
    User.objects.create_superuser(name, name + "@example.com", "%s")
ids = list(Release.objects.order_by("id").values_list("id", flat=True))
rng = random.Random(42)
print(json.dumps({
    "release_ids": rng.sample(ids, min(200, len(ids))),
    "environment_ids": list(Environment.objects.order_by("order").values_list("id", flat=True)),
}))
"""

_STATUS_RE = re.compile(r'" (\d{3}) ')


def status_counts(log: Path, offset: int) -> dict[str, int]:
    """HTTP statuses in the part of gunicorn's access log written since `offset`."""
    counts: dict[str, int] = {}
    with log.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            match = _STATUS_RE.search(raw.decode("utf-8", "replace"))
            if match:
                counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return dict(sorted(counts.items()))


def request(
    port: int, method: str, path: str, body: Any = None, token: str | None = None, timeout: float = 10.0
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data[:200]
    finally:
        conn.close()


# --------------------------------------------------------------------------- the write mix


@dataclass
class WriteMix:
    """Chains create → submit → approve → deploy over `connections` threads for `duration` seconds.

    The creator and the approver are different users (four eyes); the release follows the
    `standard` workflow and is deployed to its first stage, development.
    """

    port: int
    tokens: dict[str, str]
    args: argparse.Namespace
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    chains: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    OPS = ("create", "submit", "approve", "deploy")

    def run(self) -> dict[str, Any]:
        self.latencies = {op: [] for op in self.OPS}
        run_id = secrets.token_hex(3)
        if self.args.warmup > 0:
            self._drive(self.args.warmup, f"w{run_id}", record=False)
            self.latencies = {op: [] for op in self.OPS}
            self.statuses, self.error_samples, self.chains = {}, [], 0
        started = time.perf_counter()
        self._drive(self.args.duration, run_id, record=True)
        seconds = time.perf_counter() - started
        every = sorted(x for values in self.latencies.values() for x in values)
        errors = sum(n for status, n in self.statuses.items() if not status.startswith("2"))
        return {
            "requests": len(every),
            "seconds": round(seconds, 2),
            "rps": round(len(every) / seconds, 1),
            "latency_ms": summarize(every),
            "errors": errors,
            "statuses": dict(sorted(self.statuses.items())),
            "chains": self.chains,
            "ops": {op: {"requests": len(v), "latency_ms": summarize(sorted(v))} for op, v in self.latencies.items()},
            "error_samples": self.error_samples[:5],
        }

    def _drive(self, seconds: float, run_id: str, record: bool) -> None:
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self._client, args=(i, deadline, run_id, record), daemon=True)
            for i in range(self.args.connections)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 60)

    def _client(self, number: int, deadline: float, run_id: str, record: bool) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        writer, approver = self.tokens[WRITER], self.tokens[APPROVER]
        i = 0
        while time.monotonic() < deadline:
            i += 1
            version = f"{run_id}.{number}.{i}"
            status, body = self._call(
                conn,
                "create",
                "POST",
                "/api/v1/releases",
                {
                    "name": f"Bench release {version}",
                    "version": version,
                    "description": "Created by bench/run.py",
                    "team": "platform",
                    "workflow": "standard",
                    "features": [
                        {
                            "name": "Load test",
                            "status": "in_progress",
                            "tasks": [{"title": "Run", "status": "done"}, {"title": "Report", "status": "todo"}],
                        }
                    ],
                },
                writer,
                record,
            )
            if status != 201:
                continue
            path = f"/api/v1/releases/{body['id']}"
            steps = [
                ("submit", f"{path}/submit", {}, writer, 200),
                ("approve", f"{path}/approve", {"comment": "LGTM"}, approver, 200),
                ("deploy", f"{path}/deploy", {"environment": "development"}, writer, 201),
            ]
            for op, step_path, payload, token, expected in steps:
                status, _ = self._call(conn, op, "POST", step_path, payload, token, record)
                if status != expected:
                    break
            else:
                with self.lock:
                    self.chains += 1
        conn.close()

    def _call(self, conn, op: str, method: str, path: str, body: Any, token: str, record: bool) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        try:
            conn.request(method, path, json.dumps(body), headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            data, status = str(exc).encode(), 599
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies[op].append(elapsed)
            key = str(status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if not key.startswith("2") and len(self.error_samples) < 20:
                self.error_samples.append(f"{op} {status}: {data[:300].decode('utf-8', 'replace')}")
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None


def summarize(sorted_ms: list[float]) -> dict[str, float]:
    if not sorted_ms:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "p999": 0.0, "max": 0.0, "mean": 0.0}

    def pct(p: float) -> float:
        index = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
        return round(sorted_ms[index], 2)

    return {
        "p50": pct(50),
        "p90": pct(90),
        "p99": pct(99),
        "p999": pct(99.9),
        "max": round(sorted_ms[-1], 2),
        "mean": round(statistics.fmean(sorted_ms), 2),
    }


# --------------------------------------------------------------------------- report

TARGETS_NOTE = "2 cores, SQLite, 2 gunicorn workers, 8 concurrent clients"


def _get(results: dict, dataset: str, scenario: str) -> dict | None:
    return results["datasets"].get(dataset, {}).get("scenarios", {}).get(scenario)


def targets(results: dict) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []

    def check(label: str, value: float | None, ok: bool | None, shown: str) -> None:
        rows.append(
            (
                label,
                shown if value is not None else "not measured",
                "–" if ok is None else ("met" if ok else "**missed**"),
            )
        )

    big = "100k"

    def latency_target(name: str, percentile: str, limit: float, over: str) -> None:
        r = _get(results, big, name)
        value = r["latency_ms"][percentile] if r else None
        check(
            f"{SCENARIOS[name].title}: {percentile} ≤ {limit:g} ms {over}",
            value,
            None if value is None else value <= limit,
            f"{value:.1f} ms" if value is not None else "",
        )

    for name in ("list20", "detail"):
        latency_target(name, "p99", 50, "at 100k releases")
        r, b = _get(results, big, name), _get(results, big, f"base_{name}")
        ratio = r["rps"] / b["rps"] if r and b and b["rps"] else None
        check(
            f"{SCENARIOS[name].title}: throughput ≥ 0.7 × baseline",
            ratio,
            None if ratio is None else ratio >= 0.7,
            f"{ratio:.2f} × ({r['rps']:.0f} vs {b['rps']:.0f} req/s)" if ratio else "",
        )
    for name in ("analytics", "dashboard"):
        latency_target(name, "p50", 250, "over 100k deployments")

    def growth_target(name: str, small: str, limit: float, label: str) -> None:
        a, b = _get(results, small, name), _get(results, big, name)
        growth = b["latency_ms"]["p50"] / a["latency_ms"]["p50"] if a and b else None
        check(
            f"{SCENARIOS[name].title}: {label}",
            growth,
            None if growth is None else growth <= limit,
            f"{growth:.2f} ×" if growth else "",
        )

    for name in ("list20", "detail"):
        growth_target(name, "1k", 1.3, "p50 at 100k releases ≤ 1.3 × at 1k")
    for name in ("analytics", "dashboard"):
        growth_target(name, "10k", 10, "≤ linear in deployments (10× deployments → ≤ 10× p50)")
    w = _get(results, big, "write_mix")
    check(
        "Write mix: zero errors",
        w["errors"] if w else None,
        None if not w else w["errors"] == 0,
        f"{w['errors']} errors in {w['requests']} requests" if w else "",
    )
    check(
        "Write mix: p99 ≤ 100 ms",
        w["latency_ms"]["p99"] if w else None,
        None if not w else w["latency_ms"]["p99"] <= 100,
        f"{w['latency_ms']['p99']:.1f} ms" if w else "",
    )
    return rows


def render(results: dict) -> str:
    meta = results["meta"]
    out: list[str] = []
    add = out.append
    add("# Benchmarks\n")
    add(
        "Generated by `make bench` (`bench/run.py`); do not edit by hand — notes that should survive a rerun go "
        "in `bench/analysis.md`, which is copied in at the end. Raw numbers: `bench/results.json`.\n"
    )
    add(f"- Run: {meta['finished_at']} (took {meta['elapsed_minutes']} min), commit {meta['commit']}")
    add(f"- Command: `{meta['command']}`")
    add(
        f"- Server: `{meta['server_command']}` with `DJANGO_SETTINGS_MODULE=bench.settings` "
        "(production settings + baseline views, DEBUG off)"
    )
    add(
        f"- Load: `wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']:g}s` per scenario after a "
        f"{meta['warmup']:g} s warm-up; closed loop, so {meta['connections']} requests in flight at any time"
    )
    add(
        "- Auth: JWT bearer token (anonymous reads off, as in production); throttling on with "
        f"rates raised to `{meta['throttle_rate']}`; database cache (no Redis), as configured without `REDIS_URL`"
    )
    add(f"- Data: `manage.py seed_load --seed {SEED}` into a fresh SQLite database per dataset\n")
    add("## Machine\n")
    add(
        "The machine may be shared with other work while the benchmark runs: the load averages (1/5/15 min) "
        "before and after say how busy it was; the baselines, measured in the same run, are the yardstick.\n"
    )
    add("| cores | CPU | memory | kernel | load average at start | at end |")
    add("|---|---|---|---|---|---|")
    add(
        f"| {meta['cores']} | {meta['cpu_model']} | {meta['memory_gb']} GiB | {meta['kernel']} | "
        f"{' / '.join(map(str, meta['load_average_at_start']))} | "
        f"{' / '.join(map(str, meta.get('load_average_at_end', [])))} |\n"
    )
    add("| " + " | ".join(meta["versions"]) + " |")
    add("|" + "---|" * len(meta["versions"]))
    add("| " + " | ".join(meta["versions"].values()) + " |\n")
    add("## Datasets\n")
    add("| dataset | releases | deployments | seed_load time | database size | worker RSS idle |")
    add("|---|---:|---:|---:|---:|---|")
    for name, d in results["datasets"].items():
        add(
            f"| {name} | {d['releases']:,} | {d['deployments']:,} | {d['seed_seconds']} s | {d['db_mb']} MB | "
            f"{', '.join(f'{x:.0f}' for x in d.get('rss_idle_mb', []))} MB |"
        )
    add("")
    add("## Targets\n")
    add(
        f"Targets of issue #6 ({TARGETS_NOTE}). Query counts and index use on the hot paths are checked "
        "by `tests/test_query_plans.py`.\n"
    )
    add("| target | measured | |")
    add("|---|---|---|")
    for label, shown, verdict in targets(results):
        add(f"| {label} | {shown} | {verdict} |")
    add("")
    add("## Scenarios\n")
    add("Latencies in milliseconds; RSS is each worker's resident memory after the run.\n")
    for name, scenario in SCENARIOS.items():
        rows = [(dname, r) for dname, d in results["datasets"].items() if (r := d["scenarios"].get(name))]
        if not rows:
            continue
        add(f"### {scenario.title}\n")
        add(
            f"`{scenario.path}`"
            + (f" — baseline of “{SCENARIOS[scenario.baseline_of].title}”" if scenario.baseline_of else "")
            + "\n"
        )
        add("| dataset | req/s | p50 | p90 | p99 | max | errors | worker RSS (MB) |")
        add("|---|---:|---:|---:|---:|---:|---:|---|")
        for dname, r in rows:
            lat = r["latency_ms"]
            errors = str(r["errors"]) + (
                f" ({', '.join(f'{k}: {v}' for k, v in r['statuses'].items() if not k.startswith('2'))})"
                if r["errors"]
                else ""
            )
            add(
                f"| {results['datasets'][dname]['label']} | {r['rps']:,.0f} | {lat['p50']:.1f} | {lat['p90']:.1f} | "
                f"{lat['p99']:.1f} | {lat['max']:.0f} | {errors} | {', '.join(f'{x:.0f}' for x in r['rss_mb'])} |"
            )
        if name == "write_mix":
            for dname, r in rows:
                add(f"\n{r['chains']} complete chains; per step ({results['datasets'][dname]['label']}):\n")
                add("| step | requests | p50 | p90 | p99 | max |")
                add("|---|---:|---:|---:|---:|---:|")
                for op, o in r["ops"].items():
                    lat = o["latency_ms"]
                    add(
                        f"| {op} | {o['requests']} | {lat['p50']:.1f} | {lat['p90']:.1f} | {lat['p99']:.1f} "
                        f"| {lat['max']:.0f} |"
                    )
                if r.get("error_samples"):
                    add("\nFirst errors:\n")
                    for sample in r["error_samples"]:
                        add(f"- `{sample[:200]}`")
        add("")
    add("## API / baseline\n")
    add(
        "Same reads through DRF (JWT auth, throttling, filter backends, serializers) vs. the bare view "
        "(`.values()` + `JsonResponse`).\n"
    )
    add("| read | dataset | API req/s | baseline req/s | throughput ratio | p50 ratio | p99 ratio |")
    add("|---|---|---:|---:|---:|---:|---:|")
    for api in ("list20", "list100", "detail"):
        for d in results["datasets"].values():
            a, b = d["scenarios"].get(api), d["scenarios"].get(f"base_{api}")
            if a and b:
                add(
                    f"| {SCENARIOS[api].title} | {d['label']} | {a['rps']:,.0f} | {b['rps']:,.0f} | "
                    f"{a['rps'] / b['rps']:.2f} | {a['latency_ms']['p50'] / b['latency_ms']['p50']:.2f} | "
                    f"{a['latency_ms']['p99'] / b['latency_ms']['p99']:.2f} |"
                )
    add("")
    add("## Scaling\n")
    add("Growth factor = latency at the bigger dataset / latency at the small one (1.00 = flat).\n")
    add("| scenario | compared | p50 growth | p99 growth | worker RSS after (MB) |")
    add("|---|---|---:|---:|---|")
    pairs = [
        (
            ("list20", "list100", "detail", "base_list20", "base_list100", "base_detail"),
            "1k",
            "100k",
            "1k → 100k releases",
        ),
        (("list20", "detail", "base_list20", "base_detail"), "1k", "10k", "1k → 10k releases"),
        (AGGREGATES, "10k", "100k", "10k → 100k deployments (and releases)"),
    ]
    for names, small, big, label in pairs:
        for name in names:
            a, b = _get(results, small, name), _get(results, big, name)
            if a and b:
                add(
                    f"| {SCENARIOS[name].title} | {label} | {b['latency_ms']['p50'] / a['latency_ms']['p50']:.2f} | "
                    f"{b['latency_ms']['p99'] / a['latency_ms']['p99']:.2f} | "
                    f"{', '.join(f'{x:.0f}' for x in a['rss_mb'])} → {', '.join(f'{x:.0f}' for x in b['rss_mb'])} |"
                )
    add("")
    add("## Latency vs data size\n")
    add("![p50 and p99 latency per scenario and dataset](bench/latency.png)\n")
    if ANALYSIS.exists():
        add(ANALYSIS.read_text().strip() + "\n")
    return "\n".join(out)


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(results["datasets"])
    labels = [results["datasets"][d]["label"].replace(" / ", "\n") for d in datasets]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    panels = [
        (axes[0], ("list20", "list100", "detail", "base_list20", "base_list100", "base_detail"), "Reads vs releases"),
        (axes[1], AGGREGATES, "Aggregates vs deployments"),
    ]
    for ax, names, title in panels:
        for i, name in enumerate(names):
            xs, p50, p99 = [], [], []
            for x, d in enumerate(datasets):
                r = results["datasets"][d]["scenarios"].get(name)
                if r:
                    xs.append(x)
                    p50.append(r["latency_ms"]["p50"])
                    p99.append(r["latency_ms"]["p99"])
            if not xs:
                continue
            color = f"C{i}"
            style = ":" if name.startswith("base_") else "-"
            ax.plot(xs, p50, style, marker="o", color=color, label=f"{SCENARIOS[name].title} p50")
            ax.plot(xs, p99, "--", marker="^", color=color, alpha=0.6, label="p99")
        ax.set_xticks(range(len(datasets)), labels)
        ax.set_yscale("log")
        ax.set_ylabel("latency (ms)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    axes[0].axhline(50, color="red", lw=0.8, alpha=0.5)
    axes[1].axhline(250, color="red", lw=0.8, alpha=0.5)
    meta = results["meta"]
    fig.suptitle(
        f"Ops Portal API, {meta['cores']} cores, SQLite, {meta['workers']} gunicorn workers, "
        f"{meta['connections']} concurrent clients (red: targets)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def write_outputs(results: dict) -> None:
    REPORT.write_text(render(results))
    plot(results)
    say(f"wrote {REPORT.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="1k,10k,100k", help="Comma-separated: 1k, 10k, 100k.")
    parser.add_argument(
        "--scenarios", default="", help="Run these scenarios (comma-separated) instead of each dataset's own list."
    )
    parser.add_argument("--duration", type=float, default=10, help="Seconds per scenario.")
    parser.add_argument("--warmup", type=float, default=2, help="Warm-up seconds before each scenario.")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent clients.")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument("--throttle-rate", default="100000/s", help="Throttle rate for anon and user clients.")
    parser.add_argument("--report-only", action="store_true", help="Re-render the report from bench/results.json.")
    parser.add_argument("--no-report", action="store_true", help="Print the results, leave BENCHMARKS.md alone.")
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if args.report_only:
        write_outputs(json.loads(RESULTS.read_text()))
        return
    unknown = [d for d in args.datasets.split(",") if d not in DATASETS] + [
        s for s in args.scenarios if s not in SCENARIOS
    ]
    if unknown:
        parser.error(f"unknown dataset or scenario: {', '.join(unknown)}")

    wrk = require_tools()
    started = time.perf_counter()
    results: dict[str, Any] = {"meta": machine_info(wrk), "datasets": {}}
    bench = Bench(args, wrk)
    for name in args.datasets.split(","):
        results["datasets"][name] = bench.run_dataset(DATASETS[name])
    results["meta"].update(
        {
            "finished_at": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "elapsed_minutes": round((time.perf_counter() - started) / 60, 1),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "command": shlex.join(["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
            "server_command": bench.server_cmd,
            "duration": args.duration,
            "warmup": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "workers": args.workers,
            "throttle_rate": args.throttle_rate,
        }
    )
    if args.no_report:
        print(json.dumps(results, indent=2))
        return
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_outputs(results)


if __name__ == "__main__":
    main()
