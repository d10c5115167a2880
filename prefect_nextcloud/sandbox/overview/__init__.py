"""A look into a running sandbox: its users' files and comments, and its tasks.

``GET /`` shows them as one HTML page, ``GET /sandbox/overview.json`` as JSON (both take
``?user=<id>`` to show one user); ``prefect-nextcloud sandbox ls|comments|tasks`` prints that
JSON in a terminal. Page and commands read the same :func:`~.collect.collect` snapshot, so they
always agree. A real Nextcloud answers ``/`` with a redirect to its login page; the sandbox has no
login page and shows the overview there instead. Every other path answers as before.

The pages sit beside the emulated server, not inside it: they are neither logged in the request
log nor subject to injected failures or chaos, so looking never changes what a test counts or
which seeded outcome the next request draws. They show no password of any kind: the data holds
none.

Access: a sandbox bound to a loopback address (the default, ``127.0.0.1``) can only be reached
from this machine, where every process may already compute the sandbox's deterministic app
passwords, so the pages are open there. Bound to any other address they require HTTP Basic
login as a sandbox user (with its app password, as the API does) and show only that user's
files and tasks, as Nextcloud shows each user their own: the pages are then no more open than
the API beside them.
"""
