"""What the emulated server keeps: users, files and folders, tasks, and what it reads from files.

:mod:`.store` is the shared, lock-guarded state of one sandbox; :mod:`.records` the files,
folders and tasks in it; :mod:`.filetypes` and :mod:`.images` tell a stored file's MIME type and
image facts, as Nextcloud's file layer does.
"""
