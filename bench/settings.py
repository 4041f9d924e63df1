"""Settings for benchmark runs only: the production settings plus the bare baseline views.

The API under test is configured exactly as in production (`opsportal.settings`, driven
by the same environment variables); the only addition is `bench.urls`, which mounts the
baseline views of `bench.baseline` next to the real URLs. Never used outside `bench/run.py`.
"""

from opsportal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
