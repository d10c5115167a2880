"""The HTTP client: the one place where prefect-nextcloud talks to a Nextcloud server.

:class:`NextcloudClient` and :class:`AsyncNextcloudClient` are the sync and async faces of the
same client. Both send the :class:`~prefect_nextcloud.client.endpoints.Call` objects that
:mod:`prefect_nextcloud.client.endpoints` describes, so requests and answers are built and read
in one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from prefect_nextcloud._version import __version__
from prefect_nextcloud.client import endpoints
from prefect_nextcloud.client.config import is_loopback, normalize_base_url, tls_verification
from prefect_nextcloud.client.endpoints import Call
from prefect_nextcloud.client.errors import NextcloudConnectionError
from prefect_nextcloud.client.models import Task, TaskFile, TaskType

__all__ = ["DEFAULT_APP_ID", "AsyncNextcloudClient", "NextcloudClient"]

T = TypeVar("T")

DEFAULT_APP_ID = "prefect-nextcloud"
USER_AGENT = f"prefect-nextcloud/{__version__}"


class _ClientBase:
    """Settings and request building shared by both faces."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout_seconds: float = 30.0,
        allow_insecure_http: bool = False,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        if not user_id or not isinstance(user_id, str):
            raise ValueError("user_id must be the Nextcloud login name, a non-empty string.")
        if not app_password or not isinstance(app_password, str):
            raise ValueError("app_password must be a non-empty string.")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds!r}.")
        if (
            self.base_url.startswith("http://")
            and not allow_insecure_http
            and not is_loopback(self.base_url)
        ):
            raise ValueError(
                f"Refusing plain http:// to {self.base_url}: the app password would travel in "
                "clear text. Use https://, or set allow_insecure_http=True if the network path "
                "is trusted."
            )
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ValueError(f"ca_bundle {ca_bundle!r} is not a file; give the path of a PEM file.")
        self.user_id = user_id
        self._settings: dict[str, Any] = {
            "base_url": self.base_url,
            "auth": httpx.BasicAuth(user_id, app_password),
            "headers": {"User-Agent": USER_AGENT},
            "timeout": httpx.Timeout(timeout_seconds),
            "verify": tls_verification(self.base_url, verify_tls=verify_tls, ca_bundle=ca_bundle),
            "follow_redirects": False,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, user_id={self.user_id!r})"

    @staticmethod
    def _request_arguments(call: Call[Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "params": {**call.params, "format": "json"},
            # The server does not parse an Accept header that carries parameters and then
            # answers XML; format=json above is what really selects JSON.
            "headers": {"OCS-APIRequest": "true", "Accept": "application/json"},
        }
        if call.json is not None:
            arguments["json"] = call.json
        return arguments

    def _connection_error(self, call: Call[Any], error: httpx.TransportError) -> Exception:
        kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
        detail = str(error) or type(error).__name__
        return NextcloudConnectionError(
            f"The connection to {self.base_url} {kind} on {call.endpoint}: {detail}. Check the "
            "address, the network and that the server is up.",
            endpoint=call.endpoint,
        )


class NextcloudClient(_ClientBase):
    """A synchronous client of the Task Processing API, with one connection pool.

    Use it as a context manager, or call :meth:`close` when done.

    Example:
        ```python
        from prefect_nextcloud import NextcloudCredentials

        with NextcloudCredentials.from_env().get_client() as client:
            print(sorted(client.get_task_types()))
        ```
    """

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout_seconds: float = 30.0,
        allow_insecure_http: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Create a client; no connection is made until the first call.

        Args:
            base_url: The server root, e.g. ``https://cloud.example.com``.
            user_id: The Nextcloud login name.
            app_password: An app password of that user.
            verify_tls: Whether to check the server's TLS certificate.
            ca_bundle: Path to a PEM file of trusted certificate authorities.
            timeout_seconds: Timeout of each HTTP request.
            allow_insecure_http: Allow plain ``http://`` to a host other than this machine.
            transport: An httpx transport to use instead of the network (for tests).

        Raises:
            ValueError: A setting is invalid.
        """
        super().__init__(
            base_url,
            user_id,
            app_password,
            verify_tls=verify_tls,
            ca_bundle=ca_bundle,
            timeout_seconds=timeout_seconds,
            allow_insecure_http=allow_insecure_http,
        )
        self._http = httpx.Client(**self._settings, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send one call and read its answer.

        Raises:
            NextcloudError: The subclass that matches what went wrong.
        """
        try:
            response = self._http.request(call.method, call.path, **self._request_arguments(call))
        except httpx.TransportError as error:
            raise self._connection_error(call, error) from None
        return call.parse(response)

    def get_task_types(self) -> dict[str, TaskType]:
        """List the task types this user may schedule, keyed by task type id."""
        return self.send(endpoints.get_task_types())

    def schedule_task(
        self,
        task_type: str,
        input: Mapping[str, Any],
        *,
        app_id: str = DEFAULT_APP_ID,
        custom_id: str | None = None,
        webhook_uri: str | None = None,
        webhook_method: str | None = None,
        include_watermark: bool | None = None,
    ) -> Task:
        """Schedule a task.

        Args:
            task_type: The task type id, e.g. ``core:analyze-images``.
            input: Slot name to value; file slots take file ids.
            app_id: Any identifier of the caller; lists can be filtered by it.
            custom_id: Your own identifier (at most 255 characters), to find the task again.
            webhook_uri: A URL the server calls when the task ends.
            webhook_method: ``HTTP:POST`` and the like; required with ``webhook_uri``.
            include_watermark: Ask providers to watermark output (Nextcloud 33+).

        Returns:
            The new task, ``STATUS_SCHEDULED``, with its input as the server normalised it.
        """
        return self.send(
            endpoints.schedule_task(
                task_type,
                input,
                app_id=app_id,
                custom_id=custom_id,
                webhook_uri=webhook_uri,
                webhook_method=webhook_method,
                include_watermark=include_watermark,
            )
        )

    def get_task(self, task_id: int) -> Task:
        """Fetch a task's current state."""
        return self.send(endpoints.get_task(task_id))

    def cancel_task(self, task_id: int) -> Task:
        """Cancel a scheduled or running task; a finished task is returned unchanged."""
        return self.send(endpoints.cancel_task(task_id))

    def delete_task(self, task_id: int) -> None:
        """Delete a task; deleting a task that does not exist is not an error."""
        self.send(endpoints.delete_task(task_id))

    def list_tasks(
        self, *, task_type: str | None = None, custom_id: str | None = None
    ) -> list[Task]:
        """List this user's tasks, optionally filtered by task type and custom id."""
        return self.send(endpoints.list_tasks(task_type=task_type, custom_id=custom_id))

    def list_tasks_by_app(self, app_id: str, *, custom_id: str | None = None) -> list[Task]:
        """List this user's tasks scheduled under ``app_id``, optionally by custom id."""
        return self.send(endpoints.list_tasks_by_app(app_id, custom_id=custom_id))

    def get_task_file(self, task_id: int, file_id: int) -> TaskFile:
        """Download a file of a task's input or output."""
        return self.send(endpoints.get_task_file(task_id, file_id))


class AsyncNextcloudClient(_ClientBase):
    """The asynchronous face of :class:`NextcloudClient`: the same calls, awaited.

    Example:
        ```python
        async with NextcloudCredentials.from_env().get_async_client() as client:
            task = await client.get_task(42)
        ```
    """

    def __init__(
        self,
        base_url: str,
        user_id: str,
        app_password: str,
        *,
        verify_tls: bool = True,
        ca_bundle: str | None = None,
        timeout_seconds: float = 30.0,
        allow_insecure_http: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Create a client; see :class:`NextcloudClient` for the arguments."""
        super().__init__(
            base_url,
            user_id,
            app_password,
            verify_tls=verify_tls,
            ca_bundle=ca_bundle,
            timeout_seconds=timeout_seconds,
            allow_insecure_http=allow_insecure_http,
        )
        self._http = httpx.AsyncClient(**self._settings, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Send one call and read its answer (see :meth:`NextcloudClient.send`)."""
        try:
            response = await self._http.request(
                call.method, call.path, **self._request_arguments(call)
            )
        except httpx.TransportError as error:
            raise self._connection_error(call, error) from None
        return call.parse(response)

    async def get_task_types(self) -> dict[str, TaskType]:
        """See :meth:`NextcloudClient.get_task_types`."""
        return await self.send(endpoints.get_task_types())

    async def schedule_task(
        self,
        task_type: str,
        input: Mapping[str, Any],
        *,
        app_id: str = DEFAULT_APP_ID,
        custom_id: str | None = None,
        webhook_uri: str | None = None,
        webhook_method: str | None = None,
        include_watermark: bool | None = None,
    ) -> Task:
        """See :meth:`NextcloudClient.schedule_task`."""
        return await self.send(
            endpoints.schedule_task(
                task_type,
                input,
                app_id=app_id,
                custom_id=custom_id,
                webhook_uri=webhook_uri,
                webhook_method=webhook_method,
                include_watermark=include_watermark,
            )
        )

    async def get_task(self, task_id: int) -> Task:
        """See :meth:`NextcloudClient.get_task`."""
        return await self.send(endpoints.get_task(task_id))

    async def cancel_task(self, task_id: int) -> Task:
        """See :meth:`NextcloudClient.cancel_task`."""
        return await self.send(endpoints.cancel_task(task_id))

    async def delete_task(self, task_id: int) -> None:
        """See :meth:`NextcloudClient.delete_task`."""
        await self.send(endpoints.delete_task(task_id))

    async def list_tasks(
        self, *, task_type: str | None = None, custom_id: str | None = None
    ) -> list[Task]:
        """See :meth:`NextcloudClient.list_tasks`."""
        return await self.send(endpoints.list_tasks(task_type=task_type, custom_id=custom_id))

    async def list_tasks_by_app(self, app_id: str, *, custom_id: str | None = None) -> list[Task]:
        """See :meth:`NextcloudClient.list_tasks_by_app`."""
        return await self.send(endpoints.list_tasks_by_app(app_id, custom_id=custom_id))

    async def get_task_file(self, task_id: int, file_id: int) -> TaskFile:
        """See :meth:`NextcloudClient.get_task_file`."""
        return await self.send(endpoints.get_task_file(task_id, file_id))
