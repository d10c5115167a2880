"""Many Nextcloud tasks, one Prefect task: every attempt reconciles the batch with the server.

Prefect's retries are the loop; nothing sleeps inside an attempt. The engine is split by
responsibility:

- ``items``: the batch's state (``BatchItem``, ``ItemResult``) and the bounded memory of
  batches between attempts.
- ``inputs``: checking the inputs before anything is sent, and resolving file references.
- ``reconciling``: one listing of the batch's tasks, adoption, twins and unreadable rows.
- ``scheduling``: the items that have no task yet, as far as the schedule window allows.
- ``outputs``: settling a finished item, with its output files downloaded and saved.
- ``timing``: the delay before the next look, and the deadlines that end a wait.
- ``cleanup``: cancelling what must not run, abandoning a failed batch, tidying up.
- ``engine``: :func:`reconcile_batch`, one attempt over the batch.
"""

from prefect_nextcloud.tasks.batch.engine import reconcile_batch
from prefect_nextcloud.tasks.batch.inputs import is_file_reference
from prefect_nextcloud.tasks.batch.items import BatchItem, ItemResult

__all__ = ["BatchItem", "ItemResult", "is_file_reference", "reconcile_batch"]
