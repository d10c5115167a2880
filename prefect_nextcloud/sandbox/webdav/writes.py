"""What Nextcloud does with a file right after its content is written, and ``PATCH`` checksums.

After every write through ``File::put`` (a ``PUT``, or the ``MOVE`` that assembles a chunked
upload on local storage):

- ``X-HASH: md5|sha1|sha256|all`` answers the content's hashes as ``X-Hash-MD5`` …, unstored;
- ``X-OC-MTime`` sets the modification time and answers ``X-OC-MTime: accepted``; a value that is
  not a plain number above one day is a 500 ``InvalidArgumentException``, after the content was
  written (``MtimeSanitizer``);
- ``X-OC-CTime`` sets the creation time the same way (``X-OC-CTime: accepted``);
- ``OC-Checksum`` is stored verbatim (trimmed, never checked); without it the stored checksum
  is cleared.

``PATCH`` with ``X-Recalculate-Hash: <algorithm>`` (``ChecksumUpdatePlugin``) hashes a file,
stores ``<ALGORITHM>:<hex>`` as its checksum and answers 204 with it in ``OC-Checksum``; an
algorithm PHP's ``hash_file`` does not know is its 500 ``ValueError``. The sandbox knows md5,
the sha1, sha2 and sha3 families, crc32b and adler32. Sources: Nextcloud's
``apps/dav/lib/Connector/Sabre/File.php`` (``put``), ``MtimeSanitizer.php`` and
``ChecksumUpdatePlugin.php``; ``lib/private/Files/Storage/Local.php`` (``hash``).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Mapping

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import is_numeric, to_int
from prefect_nextcloud.sandbox.storage.records import Node
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.sabre_xml import server_error

__all__ = ["after_write", "recalculate_checksum", "sanitize_mtime"]

_ONE_DAY = 24 * 60 * 60
_PHP_TRIM = " \t\n\r\0\x0b"
_HASHES = (("md5", "X-Hash-MD5"), ("sha1", "X-Hash-SHA1"), ("sha256", "X-Hash-SHA256"))


def _hashlib(name: str) -> Callable[[bytes], str]:
    return lambda data: hashlib.new(name, data).hexdigest()


# PHP hash_file() algorithm names that Python computes alike.
_ALGORITHMS: dict[str, Callable[[bytes], str]] = {
    **{name: _hashlib(name) for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")},
    "sha512/224": _hashlib("sha512_224"),
    "sha512/256": _hashlib("sha512_256"),
    **{f"sha3-{bits}": _hashlib(f"sha3_{bits}") for bits in (224, 256, 384, 512)},
    "crc32b": lambda data: f"{zlib.crc32(data):08x}",
    "adler32": lambda data: f"{zlib.adler32(data):08x}",
}


def sanitize_mtime(value: str) -> int:
    """``MtimeSanitizer::sanitizeMtime``: a Unix time from a header or property.

    Raises:
        DavError: 500 ``InvalidArgumentException`` for hexadecimal, non-numeric or values of one
            day or less.
    """
    if re.match(r"\s*0[xX]", value) or not is_numeric(value):
        raise server_error(
            "InvalidArgumentException",
            f'X-OC-MTime header must be a valid integer (unix timestamp), got "{value}".',
        )
    mtime = to_int(value)
    if mtime <= _ONE_DAY:
        raise server_error(
            "InvalidArgumentException",
            "X-OC-MTime header must be a valid positive unix timestamp greater than one day, "
            f'got "{value}".',
        )
    return mtime


def after_write(store: Store, node: Node, headers: Mapping[str, str]) -> dict[str, str]:
    """Apply a written file's request headers as ``File::put`` does after the write.

    Args:
        store: Where the file lives.
        node: The file just written.
        headers: The request headers.

    Returns:
        The headers ``File::put`` adds to the answer.

    Raises:
        DavError: 500 for a bad ``X-OC-MTime`` or ``X-OC-CTime``; the content stays written.
    """
    answer = _hash_headers(headers.get("x-hash", ""), node.data)
    mtime = headers.get("x-oc-mtime", "")
    if mtime != "":
        store.touch(node, sanitize_mtime(mtime))
        answer["X-OC-MTime"] = "accepted"
    ctime = headers.get("x-oc-ctime", "")
    if ctime not in ("", "0"):
        node.creation_time = sanitize_mtime(ctime)
        answer["X-OC-CTime"] = "accepted"
    checksum = headers.get("oc-checksum", "")
    node.checksum = checksum.strip(_PHP_TRIM) if checksum not in ("", "0") else ""
    return answer


def _hash_headers(wanted: str, data: bytes) -> dict[str, str]:
    return {
        header: hashlib.new(name, data).hexdigest()
        for name, header in _HASHES
        if wanted in ("all", name)
    }


def recalculate_checksum(node: Node, algorithm: str) -> Response:
    """Answer ``PATCH`` with ``X-Recalculate-Hash`` on a file: store and send its new checksum.

    Raises:
        DavError: 500 ``ValueError`` for an algorithm ``hash_file`` does not know.
    """
    name = algorithm.lower()
    digest = _ALGORITHMS.get(name)
    if digest is None:
        raise server_error(
            "ValueError", "hash_file(): Argument #1 ($algo) must be a valid hashing algorithm"
        )
    node.checksum = f"{name.upper()}:{digest(node.data)}"
    return Response(
        b"", status_code=204, headers={"OC-Checksum": node.checksum, "Content-Length": "0"}
    )
