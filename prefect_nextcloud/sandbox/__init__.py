"""A local emulation of a Nextcloud server's Task Processing OCS API, for tests and demos.

It also answers the deprecated TextProcessing API, ``status.php``, ``/cloud/capabilities``,
``/cloud/user``, both OCS entry points (``/ocs/v2.php`` and ``/ocs/v1.php``) and WebDAV as clients
use it (files, ``SEARCH``, ``MOVE``/``COPY``, chunked uploads, file comments), each as the
emulated Nextcloud version (27 to 35) would.

Start one with :class:`NextcloudSandbox` (a context manager) and point a client at
``sandbox.base_url`` with ``sandbox.user_id`` and ``sandbox.app_password``, or use
``sandbox.credentials``. Responses follow the real server's source wherever a client could
notice: status codes, OCS envelopes in JSON or XML, headers and error texts.

The code is grouped like the server it imitates, each subpackage importing only from those
listed before it: ``storage`` (users, files, tasks), ``http`` (authentication, rate limits, PHP
semantics), ``ocs`` (the OCS pipeline, its envelope and ``/cloud``), ``webdav``,
``taskprocessing`` (task types, fake providers, workers, the OCS controllers), ``faults``
(the request log and injected failures in front of it all) and ``overview`` (the page at ``/``
that shows files, comments and tasks, beside the emulation). ``release`` is the emulated
version, ``webhook_listeners`` the app that calls registered listeners on file changes, ``app``
assembles the ASGI application and ``server`` runs it as :class:`NextcloudSandbox`.
"""

from prefect_nextcloud.sandbox.faults.control import RecordedRequest
from prefect_nextcloud.sandbox.faults.effects import FaultAction
from prefect_nextcloud.sandbox.samples import SAMPLE_IMAGE_PATH, sample_image_bytes
from prefect_nextcloud.sandbox.serve import serve_forever
from prefect_nextcloud.sandbox.server import (
    DEFAULT_APP_PASSWORD,
    DEFAULT_USER_ID,
    NextcloudSandbox,
    app_password_for,
)
from prefect_nextcloud.sandbox.storage.records import TaskSnapshot, TaskStatus

__all__ = [
    "DEFAULT_APP_PASSWORD",
    "DEFAULT_USER_ID",
    "SAMPLE_IMAGE_PATH",
    "FaultAction",
    "NextcloudSandbox",
    "RecordedRequest",
    "TaskSnapshot",
    "TaskStatus",
    "app_password_for",
    "sample_image_bytes",
    "serve_forever",
]
