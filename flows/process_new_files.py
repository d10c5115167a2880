"""Example: the ``process-new-files`` flow, imported from the package, served from a script.

The flow lives in :mod:`prefect_nextcloud.flows.process_new_files`, the entrypoint deployment.yaml
names. To serve it from this process instead of a work pool: ``python flows/process_new_files.py``.
"""

from prefect_nextcloud.flows.process_new_files import process_new_files

__all__ = ["process_new_files"]

if __name__ == "__main__":
    process_new_files.serve(name="process-new-files")
