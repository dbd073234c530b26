"""The Ray engine (``clinex extract --engine ray``): a batch on a Ray cluster, written as
numbered partitions of an output directory, exactly once, resumable after a kill.

plan.py      the input read once on the driver, sorted, cut into partitions and fingerprinted
manifest.py  the output directory: partition names, the run manifest, what a restart may resume
worker.py    PartitionWorker, one per Ray actor: the extractor loaded once, a partition per call
cluster.py   connecting to a cluster (``--address``) or starting a local one
run.py       extract_on_ray, the driver: plan, skip what is done, map the rest, keep the manifest

``ray`` is imported only here and only when a run starts: ``pip install 'clinex[ray]'``.
"""

from clinex.batch.ray.manifest import ERRORS_FILE, MANIFEST_FILE, partition_file
from clinex.batch.ray.plan import DEFAULT_PARTITION_SIZE
from clinex.batch.ray.run import RayRun, extract_on_ray

__all__ = [
    "DEFAULT_PARTITION_SIZE",
    "ERRORS_FILE",
    "MANIFEST_FILE",
    "RayRun",
    "extract_on_ray",
    "partition_file",
]
