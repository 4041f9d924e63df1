"""Project-wide pytest setup: the MongoDB compile mode (DESIGN §3) and shared fixtures."""

pytest_plugins = ["opsportal.testing.mongo_compile", "opsportal.testing.fixtures", "opsportal.testing.live_gunicorn"]
