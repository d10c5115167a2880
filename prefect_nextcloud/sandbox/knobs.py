"""The HTTP-layer test knobs of :class:`~prefect_nextcloud.sandbox.NextcloudSandbox`.

The request log, one-off failures (``inject_*``) and seeded chaos for flaky-network tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prefect_nextcloud.sandbox.faults.chaos import Chaos, ChaosSettings
from prefect_nextcloud.sandbox.faults.control import HttpControl, RecordedRequest
from prefect_nextcloud.sandbox.faults.effects import FaultAction, FaultEffect

__all__ = ["HttpKnobs"]


class HttpKnobs:
    """Methods of :class:`~prefect_nextcloud.sandbox.NextcloudSandbox` that act on HTTP traffic.

    Args:
        control: The request log, failure queue and chaos settings the app's middleware uses.
    """

    def __init__(self, control: HttpControl) -> None:
        self._control = control

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request logged so far, oldest first (Authorization redacted).

        Safe to read while requests are served; dropped requests have ``status`` None.
        """
        return self._control.requests

    def requests_to(self, method: str | None, path_regex: str) -> list[RecordedRequest]:
        """Return the logged requests with this method (any if None) whose path matches.

        Example: ``sandbox.requests_to("POST", r"/schedule$")`` counts schedule calls.
        """
        return [
            request for request in self._control.requests if request.matches(method, path_regex)
        ]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._control.clear_requests()

    def wait_for_requests(
        self, method: str | None, path_regex: str, *, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        """Block until at least ``count`` matching requests have been logged.

        Useful for asynchronous traffic: a client's polling, or webhooks (point ``webhookUri``
        at ``base_url + "/hook"`` and wait for ``"/hook"``).

        Args:
            method: The HTTP method, or None for any.
            path_regex: Searched in the URL path (``re.search``).
            count: How many requests to wait for.
            timeout: Seconds to wait at most.

        Returns:
            All matching requests logged so far.

        Raises:
            TimeoutError: Fewer requests arrived within ``timeout``.
        """
        return self._control.wait_for_requests(method, path_regex, count=count, timeout=timeout)

    def inject_error(
        self,
        path_regex: str,
        status: int,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with a fixed response, e.g. a proxy's 502.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            status: HTTP status to return.
            body: Response body.
            headers: Response headers.
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        effect = FaultEffect(FaultAction.RESPOND, status, body, dict(headers or {}))
        self._control.add_fault(path_regex, effect, times=times, method=method)

    def inject_maintenance(
        self, path_regex: str = "", *, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next matching requests as a server in maintenance mode does.

        OCS paths get 503 with the ``Service unavailable`` OCS result and the header
        ``X-Nextcloud-Maintenance-Mode: 1``; WebDAV paths get Sabre's 503 error.
        """
        effect = FaultEffect(FaultAction.MAINTENANCE)
        self._control.add_fault(path_regex, effect, times=times, method=method)

    def inject_drop(self, path_regex: str, *, times: int = 1, method: str | None = None) -> None:
        """Close the connection of the next matching requests without processing or answering.

        They are logged with ``status`` None.
        """
        self._control.add_fault(
            path_regex, FaultEffect(FaultAction.DROP), times=times, method=method
        )

    def inject_lost_response(
        self, path_regex: str, *, times: int = 1, method: str | None = None
    ) -> None:
        """Process the next matching requests normally, then close the connection unanswered.

        The server did the work (``POST /schedule`` created the task) but the client sees a
        connection error, as when a network fails after the request arrived. The log keeps the
        status of the lost response, with ``fault`` :attr:`FaultAction.LOSE_RESPONSE`.

        Args:
            path_regex: Searched in the URL path (``re.search``).
            times: How many requests to affect.
            method: Only requests with this HTTP method; any by default.
        """
        self._control.add_fault(
            path_regex, FaultEffect(FaultAction.LOSE_RESPONSE), times=times, method=method
        )

    def clear_faults(self) -> None:
        """Forget one-off injected failures that have not happened yet (chaos stays)."""
        self._control.clear_faults()

    def set_chaos(
        self,
        *,
        drop_rate: float = 0.0,
        error_rate: float = 0.0,
        error_statuses: Iterable[int] = (502, 503, 504),
        lost_response_rate: float = 0.0,
        maintenance_rate: float = 0.0,
        latency_seconds: float = 0.0,
        seed: int = 0,
        path_regex: str = "",
        methods: Iterable[str] | None = None,
    ) -> None:
        """Make the network flaky for matching requests until :meth:`clear_chaos`.

        Each matching request takes one draw from ``random.Random(seed)`` in arrival order, so
        a seed and a request order always give the same outcomes. With the given probabilities
        (which must add up to at most 1) it is dropped before processing, answered with a proxy
        error, processed with its response lost (as :meth:`inject_lost_response`), or answered
        as in maintenance mode; otherwise it is processed normally. One-off failures
        (``inject_*``) take precedence and skip the draw. Replaces earlier chaos settings.

        Args:
            drop_rate: Probability of closing the connection without processing or answering
                (logged with ``status`` None).
            error_rate: Probability of a reverse proxy's error page: one of ``error_statuses``
                picked at random, with an nginx-style HTML body; a 503 does not look like
                maintenance mode.
            error_statuses: The statuses of proxy errors, 400 to 599.
            lost_response_rate: Probability of processing the request, then closing the
                connection without the response.
            maintenance_rate: Probability of the maintenance-mode 503 of
                :meth:`inject_maintenance`.
            latency_seconds: Delay before each matching request is handled (whatever its
                outcome); other requests are served meanwhile.
            seed: Seed of the random sequence.
            path_regex: Only requests whose path matches (``re.search``); all by default.
            methods: Only requests with these HTTP methods; any by default.

        Raises:
            ValueError: A rate is outside 0 to 1, the rates add up to more than 1, a status is
                not an error status, or the latency is negative.
        """
        settings = ChaosSettings(
            drop_rate=drop_rate,
            error_rate=error_rate,
            error_statuses=tuple(error_statuses),
            lost_response_rate=lost_response_rate,
            maintenance_rate=maintenance_rate,
            latency_seconds=latency_seconds,
            seed=seed,
            path_regex=path_regex,
            methods=None if methods is None else frozenset(methods),
        )
        self._control.set_chaos(Chaos(settings))

    def clear_chaos(self) -> None:
        """Stop the chaos of :meth:`set_chaos`; requests being delayed continue at once."""
        self._control.set_chaos(None)

    def wait_for_delayed_requests(self, *, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least ``count`` requests are being held by ``latency_seconds``.

        Lets a test act while requests are delayed, e.g. check that others are still served.

        Args:
            count: How many delayed requests to wait for.
            timeout: Seconds to wait at most.

        Raises:
            TimeoutError: Fewer requests were delayed within ``timeout``.
            RuntimeError: No chaos is set.
        """
        chaos = self._control.chaos
        if chaos is None:
            raise RuntimeError("No chaos is set; call set_chaos(latency_seconds=...) first")
        chaos.wait_for_held(count, timeout)
