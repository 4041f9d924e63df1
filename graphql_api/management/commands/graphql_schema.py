"""`manage.py graphql_schema [--check]`: write the GraphQL schema to `schema.graphql`, or (with `--check`,
as `dev.py test` and CI run it) fail when the file differs from the schema the code defines — the GraphQL
counterpart of `makemigrations --check`."""

from __future__ import annotations

import difflib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from graphql_api.schema import schema

SCHEMA_FILE = "schema.graphql"


def schema_text() -> str:
    return schema.as_str().rstrip("\n") + "\n"


class Command(BaseCommand):
    help = "Export the GraphQL schema to schema.graphql (--check: fail when the file is out of date)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Exit 1 when schema.graphql differs from the code.")
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / SCHEMA_FILE), help="Where the file is.")

    def handle(self, *args, check: bool = False, path: str, **options) -> None:
        target = Path(path)
        wanted = schema_text()
        if not check:
            target.write_text(wanted, encoding="utf-8")
            self.stdout.write(f"Wrote {target}.")
            return
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != wanted:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True), wanted.splitlines(keepends=True), str(target), "the code"
            )
            self.stderr.write("".join(list(diff)[:200]))
            raise CommandError(f"{target} is out of date: run `manage.py graphql_schema` and commit it.")
        self.stdout.write(f"{target} matches the code.")
