"""Save a "Nextcloud Credentials" block from ``NEXTCLOUD_*`` environment variables.

Deployments and workers name the block (``credentials: nextcloud`` in deployment.yaml), so the
app password lives in Prefect's block store rather than in run parameters. With
``PREFECT_API_URL`` pointing at your server, and ``NEXTCLOUD_URL``, ``NEXTCLOUD_USER`` and
``NEXTCLOUD_APP_PASSWORD`` set (or in a ``.env`` file)::

    python blocks/save_credentials.py [block-name]
"""

import sys

from prefect_nextcloud.blocks.credentials import NextcloudCredentials


def main(argv: list[str]) -> int:
    """Save the block under the given name (default ``nextcloud``), replacing an older one."""
    name = argv[0] if argv else "nextcloud"
    credentials = NextcloudCredentials.from_env()
    credentials.save(name, overwrite=True)
    print(f'Saved "Nextcloud Credentials" block {name!r} for {credentials.user_id}.')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
