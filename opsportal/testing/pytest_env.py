"""Loaded with `-p` before pytest-django configures Django: test-run environment defaults."""

import os

# Tests run with production-like settings (DEBUG off), so they need a non-default key.
os.environ.setdefault("SECRET_KEY", "opsportal-test-secret-key-not-for-production")
# …and an audit signing key of their own (issue #10: required when DEBUG is off, never the SECRET_KEY).
os.environ.setdefault("AUDIT_SIGNING_KEY", "opsportal-test-audit-signing-key-not-for-production")

# MongoDB execute mode (issue #17): Django configured for MongoDB, served by an in-process emulator.
if os.environ.get("OPSPORTAL_MONGO_EXECUTE", "").strip().lower() in {"1", "true", "yes", "on"}:
    if not os.environ.get("MONGODB_URI"):  # a real server wins: that leg is the arbiter
        from opsportal.testing.mongo_emulator import activate

        activate()
