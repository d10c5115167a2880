"""Custom ids that make scheduling idempotent, and the cleanup hook that relies on them.

Every task this package schedules from inside a Prefect run carries a ``customId`` derived
from where the call stands: the flow run (or the flow's ``idempotency_key`` parameter; or,
for a task called outside any flow, its task run), the task type and input, and how many
identical calls came before it in the same attempt of the run. A retried task, a retried
flow, or a re-run with the same idempotency key derives the same id, and the client adopts
the task that already exists under it instead of creating a second one. The same ids let
:func:`cancel_outstanding_tasks` find, from any process, the Nextcloud tasks a flow run left
behind.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging import get_logger
from prefect.logging.loggers import flow_run_logger

from prefect_nextcloud._cache import BoundedCache
from prefect_nextcloud.blocks.credentials import NextcloudCredentials, resolve_credentials
from prefect_nextcloud.client.adoption import is_ours
from prefect_nextcloud.client.errors import NextcloudError
from prefect_nextcloud.client.nextcloud_client import DEFAULT_APP_ID
from prefect_nextcloud.client.references import LocalFile

__all__ = [
    "IDEMPOTENCY_KEY_PARAMETER",
    "app_id_for",
    "cancel_outstanding_tasks",
    "current_scope",
    "derive_custom_id",
    "has_idempotency_key",
    "key_scope",
    "remember_scheduled",
    "scheduled_before",
]

IDEMPOTENCY_KEY_PARAMETER = "idempotency_key"
PREFIX = "pfnc"

# Per-run bookkeeping, kept for the most recently active runs only: a long-lived process
# that runs many flows in-process must not keep every run's entries (and credentials)
# forever. The cleanup hook releases a run's entries; the others go once _MAX_RUNS runs have
# been active since. A run's counts are dropped together, never one input's count alone:
# that would give its next identical call the id of an earlier one.
_MAX_RUNS = 256
# (run id, attempt) -> input digest -> how many identical calls that attempt has made
_counts: BoundedCache[tuple[UUID, int], dict[str, int]] = BoundedCache(_MAX_RUNS)
_used: BoundedCache[UUID, dict[tuple[str, str, str], tuple[NextcloudCredentials, str]]] = (
    BoundedCache(_MAX_RUNS)
)
# Guards the dicts the caches hold.
_lock = threading.Lock()


def _canonical(value: Any) -> Any:
    if isinstance(value, LocalFile):
        return {"local": value.name, "sha256": hashlib.sha256(value.data).hexdigest()}
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, PurePath):
        return {"path": str(value)}
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def _scopes(flow_run: FlowRun | Any, parameters: Mapping[str, Any]) -> list[str]:
    """The custom-id scopes of a flow run: its idempotency key if it has one, and its id."""
    scopes = [f"{PREFIX}:{flow_run.id}:"]
    key = parameters.get(IDEMPOTENCY_KEY_PARAMETER)
    if isinstance(key, str) and key:
        scopes.insert(0, key_scope(key))
    return scopes


def key_scope(key: str) -> str:
    """The custom-id scope of every run with the idempotency key ``key``."""
    return f"{PREFIX}:key-{hashlib.sha256(key.encode()).hexdigest()[:24]}:"


def app_id_for(scope: str) -> str:
    """The app id of every task scheduled under ``scope``: one list request finds them all.

    Nextcloud stores app ids in a 32-character column, so this is ``pfnc-`` and 27 hex digits.
    """
    return f"{PREFIX}-{hashlib.sha256(scope.encode()).hexdigest()[:27]}"


def current_scope() -> str | None:
    """The custom-id scope of the run the caller stands in, or ``None`` outside any run."""
    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        return _scopes(context.flow_run, context.parameters or {})[0]
    task_context = TaskRunContext.get()
    if task_context is None:
        return None
    return f"{PREFIX}:task-{task_context.task_run.id}:"


def has_idempotency_key() -> bool:
    """Whether the current flow run has an idempotency key: other runs may share its tasks."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return False
    key = (context.parameters or {}).get(IDEMPOTENCY_KEY_PARAMETER)
    return isinstance(key, str) and bool(key)


def scheduled_before() -> bool:
    """Whether tasks under the current scope may exist from before this attempt of the run.

    They may after a retry of the flow run, or when runs share an idempotency key; a task
    called outside a flow may have been scheduled by an earlier attempt of its task run.
    """
    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        key = (context.parameters or {}).get(IDEMPOTENCY_KEY_PARAMETER)
        return context.flow_run.run_count > 1 or (isinstance(key, str) and bool(key))
    task_context = TaskRunContext.get()
    return task_context is None or task_context.task_run.run_count > 1


def derive_custom_id(task_type: str, task_input: Any) -> str | None:
    """Derive the ``customId`` of a schedule from where the call stands.

    Args:
        task_type: The task type id.
        task_input: The input as the caller gave it (file references, not staged ids); for a
            batch, the list of inputs.

    Returns:
        The custom id, or ``None`` outside any flow or task run.
    """
    payload = json.dumps([task_type, _canonical(task_input)], sort_keys=True, default=str)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:24]
    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        scope = _scopes(context.flow_run, context.parameters or {})[0]
        attempt = (context.flow_run.id, context.flow_run.run_count)
    else:  # a task called outside any flow: scoped to its own task run
        task_context = TaskRunContext.get()
        if task_context is None:
            return None
        scope = f"{PREFIX}:task-{task_context.task_run.id}:"
        attempt = (task_context.task_run.id, 1)
    with _lock:
        counts = _counts.get_or_put(attempt, dict)
        occurrence = counts.get(digest, 0)
        counts[digest] = occurrence + 1
    return f"{scope}{digest}:{occurrence}"


def remember_scheduled(credentials: NextcloudCredentials, app_id: str) -> None:
    """Note that this flow run schedules with these credentials, for the cleanup hook."""
    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        with _lock:
            key = (credentials.base_url, credentials.user_id, app_id)
            _used.get_or_put(context.flow_run.id, dict)[key] = (credentials, app_id)


def _release(flow_run: FlowRun) -> list[tuple[NextcloudCredentials, str]]:
    """Drop a flow run's bookkeeping; return the credentials and app ids it scheduled with."""
    with _lock:
        for attempt in [attempt for attempt in _counts if attempt[0] == flow_run.id]:
            _counts.pop(attempt)
        return list((_used.pop(flow_run.id) or {}).values())


def _credentials_of(
    flow_run: FlowRun, used: list[tuple[NextcloudCredentials, str]]
) -> list[tuple[NextcloudCredentials, set[str]]]:
    """The credentials a flow run scheduled with, each with the app ids it used."""
    if not used:
        # In another process (a runner or worker runs the hooks), only the flow run's
        # parameters tell which credentials it used: a saved block's name, or the environment.
        given = (flow_run.parameters or {}).get("credentials")
        if not isinstance(given, str | None):
            return []
        used = [(resolve_credentials(given), DEFAULT_APP_ID)]
    by_user: dict[tuple[str, str], tuple[NextcloudCredentials, set[str]]] = {}
    for credentials, app_id in used:
        key = (credentials.base_url, credentials.user_id)
        by_user.setdefault(key, (credentials, set()))[1].add(app_id)
    return list(by_user.values())


def cancel_outstanding_tasks(flow: Any, flow_run: FlowRun, state: Any) -> None:
    """Flow hook: cancel the Nextcloud tasks this flow run scheduled that have not finished.

    Use it as ``on_cancellation`` and ``on_crashed`` hook of any flow that schedules Nextcloud
    tasks (Prefect tasks have no cancellation hook):

    ```python
    @flow(on_cancellation=[cancel_outstanding_tasks], on_crashed=[cancel_outstanding_tasks])
    def my_flow(...): ...
    ```

    Runs that share an ``idempotency_key`` share their tasks, so with a key:

    | the run | its tasks |
    | --- | --- |
    | crashed | left alone: a re-run with the same key adopts them |
    | was cancelled, no other run with the key is live | cancelled |
    | was cancelled, another run with the key is live | left to that run |

    Without a key, a crash and a cancellation both cancel the run's tasks.

    Args:
        flow: The flow (unused; part of Prefect's hook signature).
        flow_run: The flow run that ended.
        state: Its final state: crashed or cancelling/cancelled.
    """
    logger = flow_run_logger(flow_run)  # in the run's logs, also when a runner calls the hook
    used = _release(flow_run)  # the run has ended: its bookkeeping ends here, in every case
    key = (flow_run.parameters or {}).get(IDEMPOTENCY_KEY_PARAMETER)
    if isinstance(key, str) and key:
        if getattr(state, "is_crashed", lambda: False)():
            logger.info(
                "Flow run %s crashed; its Nextcloud tasks are left for a re-run with the same "
                "idempotency_key to adopt.",
                flow_run.id,
            )
            return
        if other := _live_run_sharing(flow_run, key):
            logger.info(
                "Flow run %s was cancelled; its Nextcloud tasks are left to flow run %s, which "
                "shares its idempotency_key and is still live.",
                flow_run.id,
                other,
            )
            return
    scopes = tuple(_scopes(flow_run, flow_run.parameters or {}))
    try:
        candidates = _credentials_of(flow_run, used)
    except (ValueError, NextcloudError) as error:
        logger.warning("Cannot clean up flow run %s: no credentials (%s).", flow_run.id, error)
        return
    for credentials, app_ids in candidates:
        app_ids |= {DEFAULT_APP_ID, *(app_id_for(scope) for scope in scopes)}
        try:
            with credentials.get_client() as client:
                for app_id in sorted(app_ids):
                    for task in client.list_tasks_by_app(app_id):
                        mine = is_ours(
                            task,
                            app_id=app_id,
                            user_id=credentials.user_id,
                            custom_id_matches=lambda custom_id: custom_id.startswith(scopes),
                        )
                        if mine and task.status.is_pending:
                            client.cancel_task(task.id)
                            logger.info(
                                "Cancelled Nextcloud task %s of flow run %s.",
                                task.id,
                                flow_run.id,
                            )
        except NextcloudError as error:
            logger.warning("Could not cancel the tasks of flow run %s: %s", flow_run.id, error)


_LIVE = [
    StateType.SCHEDULED,
    StateType.PENDING,
    StateType.RUNNING,
    StateType.PAUSED,
]


def _live_run_sharing(flow_run: FlowRun, key: str) -> UUID | None:
    """Another flow run of the same flow, not ended, with the same idempotency key."""
    try:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(id=FlowFilterId(any_=[flow_run.flow_id])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_LIVE))
                ),
            )
    except Exception as error:  # cannot tell: cancelling is the safe default
        get_logger("prefect_nextcloud").warning(
            "Could not look for other live runs sharing the idempotency key: %s", error
        )
        return None
    for run in runs:
        if run.id != flow_run.id and (run.parameters or {}).get(IDEMPOTENCY_KEY_PARAMETER) == key:
            return run.id
    return None
