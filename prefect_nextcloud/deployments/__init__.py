"""Helpers for deployments of your own flows: pull steps for ``prefect.yaml`` files."""
