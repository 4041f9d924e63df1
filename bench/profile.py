#!/usr/bin/env python3
"""Profile one endpoint in-process with pyinstrument, against a database seeded by `make bench`.

    .venv/bin/python bench/profile.py /api/v1/releases/analytics              # bench-out/100k.sqlite3
    .venv/bin/python bench/profile.py /api/v1/releases?page_size=20 --db bench-out/1k.sqlite3 -n 200
    .venv/bin/python bench/profile.py /api/v1/releases --method POST --data '{"name": "P", "version": "p.{n}"}'
    .venv/bin/python bench/profile.py /api/v1/releases?page_size=20 --if-none-match   # polled: answered 304

The request goes through the whole Django stack (middleware, DRF, JWT auth as the
benchmark's writer user, throttling) with the benchmark settings, `-n` times after a
warm-up; the report shows where the time goes and how many queries one request runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="Request path, e.g. /api/v1/releases?page_size=20")
    parser.add_argument("--db", default=str(ROOT / "bench-out" / "100k.sqlite3"), help="A seeded SQLite database.")
    parser.add_argument("-n", type=int, default=50, help="Requests to profile.")
    parser.add_argument("--method", default="GET", choices=["GET", "POST"], help="HTTP method.")
    parser.add_argument("--data", default=None, help="JSON body for POST; `{n}` becomes a counter (unique values).")
    parser.add_argument(
        "--if-none-match", action="store_true", help="GET with If-None-Match: the ETag of a first GET (a 304 poll)."
    )
    parser.add_argument("--html", help="Also write pyinstrument's HTML report here.")
    parser.add_argument("--time-only", action="store_true", help="Only the timing line: no query list, no profile.")
    args = parser.parse_args()
    if not Path(args.db).exists():
        sys.exit(f"profile: no database at {args.db}: run `make bench` (or bench/run.py --datasets 100k) first")

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "OPSPORTAL_SQLITE_PATH": args.db,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-profile-key-not-a-secret-only-for-local-profiling"),
            "AUDIT_SIGNING_KEY": os.environ.get("AUDIT_SIGNING_KEY", "bench-profile-audit-key-for-local-profiling"),
            "OPSPORTAL_THROTTLE_ANON": "100000/s",
            "OPSPORTAL_THROTTLE_USER": "100000/s",
        }
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler
    from rest_framework_simplejwt.tokens import AccessToken

    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        sys.exit("profile: the database has no superuser (bench/run.py creates bench-writer)")
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_ACCEPT="application/json", HTTP_HOST="localhost"
    )
    counter = iter(range(10**9))

    conditional: dict[str, str] = {}
    if args.if_none_match:
        conditional["HTTP_IF_NONE_MATCH"] = client.get(args.path)["ETag"]

    def call():
        if args.method == "GET":
            return client.get(args.path, **conditional)
        body = (args.data or "{}").replace("{n}", f"{os.getpid()}.{next(counter)}")
        return client.post(args.path, body, content_type="application/json")

    for _ in range(3):
        response = call()
    if response.status_code not in (200, 201, 304):
        sys.exit(f"profile: {args.path} answered {response.status_code}: {response.content[:300]!r}")
    queries: list[tuple[float, str]] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(record):
        call()
    # Timing without the profiler first: CPU time per request is what a worker spends, and it is
    # steadier than wall time on a shared machine.
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.n):
        call()
    wall = (time.perf_counter() - wall) / args.n * 1000
    cpu = (time.process_time() - cpu) / args.n * 1000
    print(f"{args.path}: {cpu:.1f} ms CPU, {wall:.1f} ms wall per request (in-process, {len(queries)} queries)")
    if args.time_only:
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.n):
        call()
    profiler.stop()
    for seconds, sql in queries:
        print(f"  {seconds * 1000:7.2f} ms  {sql[:220]}")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())


if __name__ == "__main__":
    main()
