"""Two mutations racing on a real server (two gunicorn workers): one wins, the other is refused with a typed
409 and the current state — never a 500, never both."""

from __future__ import annotations

import threading

DEPLOY = """mutation($id: ID!) { deploy_release(id: $id, input: {environment: "development"}) { id } }"""
APPROVE = 'mutation($id: ID!) { approve_release(id: $id, comment: "race") { id status } }'


def _race(live_gunicorn, calls: list[tuple[str, dict, str]]) -> list[dict]:
    barrier = threading.Barrier(len(calls))
    answers: list[dict] = [{} for _ in calls]

    def run(index: int, query: str, variables: dict, user: str) -> None:
        barrier.wait()
        status, body, _ = live_gunicorn.request("POST", "/graphql", {"query": query, "variables": variables}, user=user)
        assert status == 200, body
        answers[index] = body

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _release(live_gunicorn, version: str) -> str:
    status, release, _ = live_gunicorn.request(
        "POST", "/api/v1/releases", {"name": "Race", "version": version}, user="rm3"
    )
    assert status == 201, release
    return release["id"]


def test_two_deploys_of_one_release_racing(live_gunicorn):
    for round_ in range(3):
        release = _release(live_gunicorn, f"88.{round_}.0")
        answers = _race(live_gunicorn, [(DEPLOY, {"id": release}, "rm4"), (DEPLOY, {"id": release}, "rm5")])
        won = [a for a in answers if not a.get("errors")]
        lost = [a for a in answers if a.get("errors")]
        assert len(won) == 1 and len(lost) == 1, answers
        extensions = lost[0]["errors"][0]["extensions"]
        assert extensions["status"] == 409 and extensions["code"] != "internal_error", extensions
        _, deployments, _ = live_gunicorn.request("GET", f"/api/v1/deployments?release={release}", user="rm3")
        assert deployments["count"] == 1


def test_one_manager_approving_twice_at_once(live_gunicorn):
    release = _release(live_gunicorn, "89.0.0")
    status, body, _ = live_gunicorn.request("POST", f"/api/v1/releases/{release}/submit", user="rm3")
    assert status == 200, body
    answers = _race(live_gunicorn, [(APPROVE, {"id": release}, "rm6"), (APPROVE, {"id": release}, "rm6")])
    assert sum(1 for a in answers if not a.get("errors")) == 1, answers
    refused = next(a for a in answers if a.get("errors"))["errors"][0]["extensions"]
    assert refused["status"] == 409, refused
    _, detail, _ = live_gunicorn.request("GET", f"/api/v1/releases/{release}", user="rm3")
    assert [a["user"] for a in detail["approvals"]] == ["rm6"]
