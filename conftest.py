"""Project-wide pytest setup: the MongoDB compile mode and the flush mode (DESIGN §3), shared fixtures."""

pytest_plugins = [
    "opsportal.testing.mongo_compile",
    "opsportal.testing.flush_mode",
    "opsportal.testing.fixtures",
    "opsportal.testing.live_gunicorn",
]
