"""The OCS API of ``/ocs/v2.php`` and ``/ocs/v1.php``, as Nextcloud's AppFramework serves it.

:mod:`.dispatcher` runs a call (credentials, CSRF check, rate limits, parameters, routing),
:mod:`.envelope` renders the OCS envelope in JSON or XML, and :mod:`.cloud` holds the
``/cloud`` endpoints. The Task Processing controllers live in
:mod:`~prefect_nextcloud.sandbox.taskprocessing`.
"""
