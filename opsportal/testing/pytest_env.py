"""Loaded with `-p` before pytest-django configures Django: test-run environment defaults."""

import os

# Tests run with production-like settings (DEBUG off), so they need a non-default key.
os.environ.setdefault("SECRET_KEY", "opsportal-test-secret-key-not-for-production")
