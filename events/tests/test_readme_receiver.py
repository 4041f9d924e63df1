"""The receiver of README "Webhooks and events" is run as it is printed there, as a real peer: it verifies
what the worker sends, refuses a bad signature, and prints each event once (issue #11)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from events.choices import DeliveryStatus
from events.models import Delivery
from events.services import webhook_create
from releases.services import release_submit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def readme_receiver() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Webhooks and events") :]
    code = re.search(r"\*\*A receiver\*\*.*?```python\n(.*?)```", section, re.DOTALL).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 20, "the README promises a 20-line receiver"
    return code


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_readme_receiver_verifies_what_the_worker_sends(tmp_path, release, alice, worker):
    port = free_port()
    subscription = webhook_create(
        actor=alice, data={"url": f"http://127.0.0.1:{port}/", "event_types": ["approval.requested"]}
    )
    script = tmp_path / "receiver.py"
    script.write_text(readme_receiver())
    env = {"WEBHOOK_SECRET": subscription.secret, "PORT": str(port), "PATH": ""}
    process = subprocess.Popen(  # noqa: S603 - the README's example, on loopback
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, process.stderr.read() if process.poll() is not None else ""
                time.sleep(0.05)
        # a forged request is refused
        forged = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            data=b"{}",
            headers={"webhook-id": "x", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)  # noqa: S310
        assert refused.value.code == 400

        release_submit(release=release, actor=alice)
        worker.run_once()
        (delivery,) = Delivery.objects.filter(subscription=subscription)
        assert delivery.status == DeliveryStatus.SUCCEEDED, delivery.attempts
        assert delivery.last_status_code == 204
        # sent again (a replay): the receiver handles it once
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=delivery.created_at
        )
        worker.run_once()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    lines = out.splitlines()
    assert len(lines) == 1, out
    sequence, event_type, subject = lines[0].split()
    assert event_type == "dev.opsportal.approval.requested.v1"
    assert subject == release.pk
    assert int(sequence) == delivery.seq
