"""Deployment entrypoint of the ``analyze-image`` flow, as named in deployment.yaml.

The flow lives in :mod:`prefect_nextcloud.flows.analyze_image`. To serve it from this process
instead of a work pool: ``python flows/analyze_image.py``.
"""

from prefect_nextcloud.flows.analyze_image import analyze_image

__all__ = ["analyze_image"]

if __name__ == "__main__":
    analyze_image.serve(name="analyze-image")
