"""Regenerate the committed MongoDB migrations of Django's contrib apps (mongo_migrations/).

Needs no server: the history-consistency check, which would connect, is skipped.
Run: python scripts/make_mongo_migrations.py
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "make-mongo-migrations")
os.environ.setdefault("AUDIT_SIGNING_KEY", "make-mongo-migrations-audit")
os.environ["MONGODB_URI"] = "mongodb://localhost:27017/opsportal"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

import django  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

MigrationLoader.check_consistent_history = lambda self, connection: None
django.setup()
call_command("makemigrations", "admin", "auth", "contenttypes", *sys.argv[1:])
