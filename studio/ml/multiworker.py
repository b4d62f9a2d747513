"""Join a cluster of workers with MultiWorkerMirroredStrategy.

TensorFlow reads the cluster from TF_CONFIG when the strategy is made, and the strategy waits
there until every worker has joined. A collective that waits longer than ``timeout`` seconds
for a peer fails instead of hanging (TensorFlow's coordination service also notices a worker
that stops sending heartbeats within about ten seconds).
"""

from __future__ import annotations

import os

import tensorflow as tf

from studio.core.cluster import TF_CONFIG, Cluster
from studio.core.placement import Placement
from studio.ml.placement import ResolvedPlacement


def join_cluster(cluster: Cluster, placement: Placement, timeout: float) -> ResolvedPlacement:
    """Blocks until every worker of ``cluster`` has joined; call before any other TF work."""
    os.environ[TF_CONFIG] = cluster.tf_config()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = tf.config.list_logical_devices("GPU")
    devices = tuple(d.name for d in (gpus or tf.config.list_logical_devices("CPU")[:1]))
    local = f"{len(gpus)} GPUs" if len(gpus) > 1 else "1 GPU" if gpus else "the CPU"
    role = ", the chief" if cluster.is_chief else ""
    description = (f"{cluster.size} workers with MultiWorkerMirroredStrategy (this is "
                   f"{cluster.name}{role}, on {local})")
    policy = "float32"
    if placement.mixed_precision:
        policy = "mixed_float16" if gpus else "mixed_bfloat16"
    notes: tuple[str, ...] = ()
    if placement.strategy not in ("auto", "mirrored"):
        notes = (f"'{placement.strategy}' does not apply to a multi-worker run: every worker "
                 "trains on all its GPUs, or on its CPU.",)
    return ResolvedPlacement(strategy, devices, description, policy, False, notes)
