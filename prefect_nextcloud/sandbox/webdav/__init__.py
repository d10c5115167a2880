"""WebDAV below ``/remote.php/dav`` and the legacy ``/remote.php/webdav``, as Nextcloud answers it.

:mod:`.endpoint` logs the caller in and routes to the tree: :mod:`.files`, chunked
:mod:`.uploads`, file :mod:`.comments` and :mod:`.search`. :mod:`.conditions` checks conditional
headers, :mod:`.ranges` reads byte ranges, :mod:`.writes` applies what a written file's headers
ask for, :mod:`.proppatch` changes properties and :mod:`.options` answers ``OPTIONS``;
:mod:`.sabre_xml` reads and writes SabreDAV's XML.
"""
