"""Chunked uploads below ``/remote.php/dav/uploads/<user>/<upload id>/``, as on local storage.

``MKCOL`` creates the upload folder, ``PUT`` stores chunks under any name, ``MOVE …/.file`` with
the target as ``Destination`` joins the chunks in natural order of their names (PHP's
``strnatcmp``: ``2`` before ``10``) into the file, and ``DELETE`` drops the folder. This is
Nextcloud's generic path, which every install on local disk takes: ``Destination`` on ``MKCOL``
and ``PUT`` is ignored and chunk names are not checked, so numbered (v2) chunks, byte-range
chunks (``<start>-<end>``, as nc_py_api names them) and any other names all work, and gaps or
overlaps are joined as they are. The numbered 1 to 10000 rules of ``ChunkingV2Plugin`` apply only
with object storage and a distributed cache, which the sandbox does not emulate.

The joined file is written like a ``PUT`` (``File::put``), so ``X-OC-MTime``, ``X-OC-CTime`` and
``OC-Checksum`` on the ``MOVE`` apply (see :mod:`.writes`). ``OC-Total-Length`` on the ``MOVE``
must equal the chunks' total, compared as text (``ChunkingPlugin``'s "Chunks on server do not
sum up to … bytes"), else nothing is written. Sources: Nextcloud's ``apps/dav/lib/Upload/``
(``ChunkingPlugin.php``, ``ChunkingV2Plugin.php``, ``UploadFolder.php``, ``AssemblyStream.php``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.responses import Response

from prefect_nextcloud.sandbox.http.phpcompat import natural_key
from prefect_nextcloud.sandbox.storage.store import Store
from prefect_nextcloud.sandbox.webdav.files import FilesTree, Home, file_id_header
from prefect_nextcloud.sandbox.webdav.request import DavRequest, home_owner
from prefect_nextcloud.sandbox.webdav.sabre_xml import DavError, not_implemented

__all__ = ["Uploads"]


@dataclass
class _Upload:
    chunks: dict[str, bytes] = field(default_factory=dict)


class Uploads:
    """Upload folders of every user, kept until assembled or deleted.

    Args:
        store: Shared state (its lock guards the upload folders too).
        files: Where assembled files are written.
    """

    def __init__(self, store: Store, files: FilesTree) -> None:
        self._store = store
        self._files = files
        self._uploads: dict[tuple[str, str], _Upload] = {}

    def handle(self, request: DavRequest) -> Response:
        """Handle one request for ``uploads/<owner>/…`` (``segments`` after ``uploads``).

        Raises:
            DavError: Any Sabre error.
        """
        owner = home_owner(request, self._store)
        if owner != request.user:
            raise DavError(403, "Forbidden", "Permission denied")
        method, segments = request.method, request.segments
        with self._store.condition:
            if len(segments) == 1:
                if method == "MKCOL":
                    raise DavError(
                        405, "MethodNotAllowed", "The resource you tried to create already exists"
                    )
                raise not_implemented(method)
            key = (owner, segments[1])
            if len(segments) == 2:
                return self._folder(method, key)
            if len(segments) == 3:
                return self._chunk(method, key, segments[2], request.headers, request.body)
            raise DavError(404, "NotFound", f"File with name /{'/'.join(segments[1:])} not found")

    def _missing(self, upload_id: str) -> DavError:
        return DavError(404, "NotFound", f"File with name //{upload_id} could not be located")

    def _folder(self, method: str, key: tuple[str, str]) -> Response:
        if method == "MKCOL":
            if key in self._uploads:
                raise DavError(
                    405, "MethodNotAllowed", "The resource you tried to create already exists"
                )
            self._uploads[key] = _Upload()
            return Response(b"", status_code=201)
        if key not in self._uploads:
            raise self._missing(key[1])
        if method == "DELETE":
            del self._uploads[key]
            return Response(b"", status_code=204)
        raise not_implemented(method)

    def _chunk(
        self,
        method: str,
        key: tuple[str, str],
        name: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        upload = self._uploads.get(key)
        if method == "PUT":
            if upload is None:
                raise DavError(
                    409, "Conflict", "Files cannot be created in non-existent collections"
                )
            existed = name in upload.chunks
            upload.chunks[name] = body
            return Response(b"", status_code=204 if existed else 201)
        if upload is None:
            raise self._missing(key[1])
        if method == "MOVE" and name == ".file":
            return self._assemble(key, upload, headers)
        if name not in upload.chunks and name != ".file":
            raise DavError(404, "NotFound", f"File with name /{key[1]}/{name} could not be located")
        if method == "DELETE":
            if name == ".file":  # FutureFile::delete() drops the whole upload folder
                del self._uploads[key]
            else:
                del upload.chunks[name]
            return Response(b"", status_code=204)
        raise not_implemented(method)

    def _assemble(
        self, key: tuple[str, str], upload: _Upload, headers: Mapping[str, str]
    ) -> Response:
        owner, upload_id = key
        source = f"uploads/{owner}/{upload_id}/.file"
        target = self._files.destination(Home.dav(owner), headers, source)
        if target.existing is not None and target.existing.is_dir:
            raise DavError(
                400, "BadRequest", f"The given destination {target.dav_path} is a directory."
            )
        data = b"".join(upload.chunks[name] for name in sorted(upload.chunks, key=natural_key))
        expected = headers.get("oc-total-length")
        if expected is not None and expected.strip() != str(len(data)):
            raise DavError(
                400,
                "BadRequest",
                f"Chunks on server do not sum up to {expected.strip()} but to {len(data)} bytes",
            )
        node, created, answer = self._files.store_file(owner, target.path, data, headers)
        del self._uploads[key]
        return Response(
            b"",
            status_code=201 if created else 204,
            headers={
                **answer,
                "ETag": f'"{node.etag}"',
                "Content-Length": "0",
                **file_id_header(node),
            },
        )
