"""Example: the ``analyze-image`` flow, imported from the package, served from a script.

The flow lives in :mod:`prefect_nextcloud.flows.analyze_image`, the entrypoint deployment.yaml
names. To serve it from this process instead of a work pool: ``python flows/analyze_image.py``.
"""

from prefect_nextcloud.flows.analyze_image import analyze_image

__all__ = ["analyze_image"]

if __name__ == "__main__":
    analyze_image.serve(name="analyze-image")
