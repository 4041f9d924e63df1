"""Project-wide pytest setup: the MongoDB compile mode and the flush mode (DESIGN §3), shared fixtures,
and the OpenAPI contract check of every API response (issue #14)."""

pytest_plugins = [
    "opsportal.testing.mongo_compile",
    "opsportal.testing.mongo_execute",
    "opsportal.testing.flush_mode",
    "opsportal.testing.fixtures",
    "opsportal.testing.openapi_contract",
    "opsportal.testing.live_gunicorn",
    "opsportal.testing.redis_server",
]
