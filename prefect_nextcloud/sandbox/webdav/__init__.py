"""WebDAV below ``/remote.php/dav``, as Nextcloud's Sabre server answers it.

:mod:`.endpoint` logs the caller in and routes to the tree: :mod:`.files`, chunked
:mod:`.uploads`, file :mod:`.comments` and :mod:`.search`; :mod:`.sabre_xml` reads and writes
SabreDAV's XML.
"""
