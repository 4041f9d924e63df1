"""`schema.graphql` is the schema the code defines; `manage.py graphql_schema --check` (run by `dev.py test`)
fails when it is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from graphql_api.management.commands.graphql_schema import SCHEMA_FILE, schema_text


def test_the_committed_schema_file_matches_the_code():
    assert (Path(settings.BASE_DIR) / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


def test_the_check_fails_on_a_stale_file_and_the_export_fixes_it(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text(schema_text().replace("allowed_actions", "allowedActions"), encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("graphql_schema", "--check", "--path", str(stale))
    call_command("graphql_schema", "--path", str(stale))
    call_command("graphql_schema", "--check", "--path", str(stale))
    assert stale.read_text(encoding="utf-8") == schema_text()
