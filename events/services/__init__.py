"""Every write of the events app (DESIGN §9). Views, the admin and the worker call these.

- `subscriptions`: webhook subscriptions (create, update, delete, secret rotation, test event, disable);
- `deliveries`: the worker's claim/send/record, replays and redeliveries, retention;
- `jobs`: claiming and finishing the worker's periodic jobs.

Events and their deliveries themselves are written by `events.outbox`, inside the unit of work of the
change they describe.
"""

from events.services.deliveries import (
    deliveries_claim,
    deliveries_prune,
    delivery_attempt,
    delivery_cancel,
    delivery_record_attempt,
    delivery_replay,
    retry_delay,
    webhook_redeliver,
)
from events.services.jobs import periodic_job_claim, periodic_job_finish
from events.services.subscriptions import (
    check_manage,
    new_secret,
    secret_hint,
    signing_secrets,
    webhook_create,
    webhook_delete,
    webhook_disable,
    webhook_rotate_secret,
    webhook_send_test,
    webhook_update,
)

__all__ = [
    "check_manage",
    "deliveries_claim",
    "deliveries_prune",
    "delivery_attempt",
    "delivery_cancel",
    "delivery_record_attempt",
    "delivery_replay",
    "new_secret",
    "periodic_job_claim",
    "periodic_job_finish",
    "retry_delay",
    "secret_hint",
    "signing_secrets",
    "webhook_create",
    "webhook_delete",
    "webhook_disable",
    "webhook_redeliver",
    "webhook_rotate_secret",
    "webhook_send_test",
    "webhook_update",
]
