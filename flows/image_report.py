"""Deployment entrypoint of the ``image-report`` flow, as named in deployment.yaml.

The flow lives in :mod:`prefect_nextcloud.flows.image_report`. To serve it from this process
instead of a work pool: ``python flows/image_report.py``.
"""

from prefect_nextcloud.flows.image_report import image_report

__all__ = ["image_report"]

if __name__ == "__main__":
    image_report.serve(name="image-report")
