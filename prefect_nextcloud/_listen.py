"""The listening socket of every HTTP server this package runs (the sandbox, the relay)."""

from __future__ import annotations

import socket

__all__ = ["listening_socket"]


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host`` and ``port`` (0: any free port), ready for uvicorn.

    It is created as ``IPPROTO_TCP``, which is what makes asyncio set ``TCP_NODELAY`` on each
    connection it accepts (a socket made with protocol 0 is skipped). Without it, Nagle's
    algorithm holds the last segment of each answer until the client's delayed ACK: about
    40 ms on every keep-alive request.

    Args:
        host: The address to bind, IPv4 or IPv6.
        port: The port, or 0 for any free one.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
