"""What every request passes through before an API answers it.

:mod:`.auth` finds the user behind a request, :mod:`.ratelimit` is the limiter behind
``#[UserRateLimit]`` and :mod:`.phpcompat` reads request data with PHP's semantics, as the
server's PHP code does.
"""
