"""Test controls in front of the emulated server: a request log, injected failures and chaos.

:mod:`.middleware` wraps the whole app, logs every request and applies what :mod:`.control`
decides, a queued one-off failure or a draw from seeded :mod:`.chaos`, before authentication
or routing, where a proxy or the network in front of Nextcloud would fail. :mod:`.effects`
names what a failure does; :mod:`.echo` builds the answer that quotes a request's credentials.
"""
