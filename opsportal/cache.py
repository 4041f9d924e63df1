"""Django's database cache (the throttles' shared counters on SQLite) with its writes in the writers' queue.

Each counter update is a small write transaction. Left to SQLite's busy handler it polls for the write
lock with growing sleeps, losing to the units of work queued on the turn file (`opsportal.uow.writer_turn`)
again and again under a burst of writes: taking the same turn keeps it in line with them.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import router

from opsportal.uow import writer_turn


class DatabaseCache(DjangoDatabaseCache):
    def _write_alias(self) -> str:
        return router.db_for_write(self.cache_model_class)

    def _base_set(self, *args: Any, **kwargs: Any) -> bool:
        with writer_turn(self._write_alias()):
            return super()._base_set(*args, **kwargs)

    def _base_delete_many(self, keys: Any) -> bool:
        with writer_turn(self._write_alias()):
            return super()._base_delete_many(keys)
