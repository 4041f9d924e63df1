"""The database switch (DESIGN §3) and start-up checks, evaluated in fresh interpreters."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.apps import apps
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "host": settings.DATABASES["default"].get("HOST"),
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
    "apps": settings.INSTALLED_APPS,
    "migration_modules": settings.MIGRATION_MODULES,
    "routers": settings.DATABASE_ROUTERS,
    "user_pk": type(apps.get_model("auth", "User")._meta.pk).__name__,
}))
"""


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"MONGODB_URI", "DEBUG", "SECRET_KEY"}}
    base.update({"DJANGO_SETTINGS_MODULE": "opsportal.settings", **env})
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


def test_mongodb_uri_switches_to_mongodb_backend_without_connecting():
    result = run_settings({"SECRET_KEY": "s3cret-for-test", "MONGODB_URI": "mongodb://db.invalid:27017/opsportal"})
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["engine"] == "django_mongodb_backend"
    assert info["host"] == "mongodb://db.invalid:27017/opsportal"
    assert "opsportal.apps.MongoAuthConfig" in info["apps"]
    assert "opsportal.apps.MongoAdminConfig" in info["apps"]
    assert "opsportal.apps.MongoContentTypesConfig" in info["apps"]
    assert "django.contrib.auth" not in info["apps"]
    assert info["apps"][-1] == "django_mongodb_backend"
    assert info["migration_modules"] == {
        "admin": "mongo_migrations.admin",
        "auth": "mongo_migrations.auth",
        "contenttypes": "mongo_migrations.contenttypes",
    }
    assert info["routers"] == ["django_mongodb_backend.routers.MongoRouter"]
    assert info["user_pk"] == "ObjectIdAutoField"
    for app in ("admin", "auth", "contenttypes"):
        assert (ROOT / "mongo_migrations" / app / "0001_initial.py").exists()


def test_default_is_sqlite_tuned_for_concurrent_workers():
    result = run_settings({"SECRET_KEY": "s3cret-for-test"})
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["engine"] == "django.db.backends.sqlite3"
    assert info["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in info["options"]["init_command"]
    assert info["options"]["timeout"] >= 5
    assert "django.contrib.auth" in info["apps"]
    assert info["migration_modules"] == {}
    assert info["user_pk"] == "AutoField"


def test_production_refuses_missing_secret_key_with_one_line_error():
    default_key = "django-insecure-opsportal-development-key-change-me"
    for env in ({"DEBUG": "false"}, {"DEBUG": "false", "SECRET_KEY": default_key}):
        result = run_settings(env)
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        assert "SECRET_KEY" in last


def test_debug_runs_with_the_development_key():
    result = run_settings({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
