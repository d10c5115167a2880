"""Example: the ``image-report`` flow, imported from the package, served from a script.

The flow lives in :mod:`prefect_nextcloud.flows.image_report`, the entrypoint deployment.yaml
names. To serve it from this process instead of a work pool: ``python flows/image_report.py``.
"""

from prefect_nextcloud.flows.image_report import image_report

__all__ = ["image_report"]

if __name__ == "__main__":
    image_report.serve(name="image-report")
