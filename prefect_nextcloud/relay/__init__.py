"""``prefect-nextcloud relay``: Nextcloud's pushes turned into Prefect events.

Nextcloud pushes a task's end to the task's ``webhookUri`` and, with the ``webhook_listeners``
app, file changes to registered listeners. The relay is the small web service behind those
URLs: it checks each push (a per-task token, a header derived from the relay secret), and emits
the events of :mod:`prefect_nextcloud.tasks.events` (``nextcloud.task.succeeded``,
``nextcloud.file.created``, ...), which batches wait on and deployments trigger on.

Modules, one job each: ``config`` (the server and the secret), ``body`` (reading a capped
body), ``answers`` (refused and ignored pushes), ``task_webhooks`` and ``file_events`` (checking
and reading each kind of push), ``app`` (the routes), ``registration`` (the admin calls that
register the listeners) and ``serve`` (uvicorn).
"""

from prefect_nextcloud.relay.app import FILE_EVENTS_PATH, create_relay_app
from prefect_nextcloud.relay.config import RelayConfig, load_relay_config
from prefect_nextcloud.relay.file_events import FILE_EVENTS_HEADER, file_events_token
from prefect_nextcloud.relay.registration import listener_registration_commands
from prefect_nextcloud.relay.serve import relay_server, serve_relay

__all__ = [
    "FILE_EVENTS_HEADER",
    "FILE_EVENTS_PATH",
    "RelayConfig",
    "create_relay_app",
    "file_events_token",
    "listener_registration_commands",
    "load_relay_config",
    "relay_server",
    "serve_relay",
]
