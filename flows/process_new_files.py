"""Deployment entrypoint of the ``process-new-files`` flow, as named in deployment.yaml.

The flow lives in :mod:`prefect_nextcloud.flows.process_new_files`. To serve it from this process
instead of a work pool: ``python flows/process_new_files.py``.
"""

from prefect_nextcloud.flows.process_new_files import process_new_files

__all__ = ["process_new_files"]

if __name__ == "__main__":
    process_new_files.serve(name="process-new-files")
