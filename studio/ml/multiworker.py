"""Join a cluster of workers with MultiWorkerMirroredStrategy, and make the workers agree.

TensorFlow reads the cluster from TF_CONFIG when the strategy is made, and the strategy waits
there until every worker has joined. A collective that waits longer than ``timeout`` seconds
for a peer fails instead of hanging (TensorFlow's coordination service also notices a worker
that stops sending heartbeats within about ten seconds).

Every worker must run the same collectives in the same order, so whatever decides what runs
next must be the same everywhere: ``from_chief`` hands every worker the chief's values, and
``check_same`` stops all workers at once when they were given different inputs.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from studio.core.cluster import TF_CONFIG, Cluster
from studio.core.errors import ProjectMismatch
from studio.core.placement import Placement
from studio.ml.placement import ResolvedPlacement

#: What a collective raises when a peer is gone or too slow.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
               tf.errors.CancelledError, tf.errors.AbortedError)


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
    notes: list[str] = []
    if placement.strategy not in ("auto", "mirrored") or placement.gpus:
        notes.append("a multi-worker run trains on all the GPUs of every worker, or on its "
                     "CPU: the project's device choice does not apply.")
    if placement.xla != "auto":
        notes.append("XLA is off in a multi-worker run.")
    policy = "float32"
    if placement.mixed_precision:
        if gpus:
            # float16 needs loss scaling, whose skip-a-step decision Keras takes per worker
            # (the workers would then run different collectives).
            notes.append("mixed precision is not used across workers with GPUs yet: "
                         "training in float32.")
        else:
            policy = "mixed_bfloat16"
    return ResolvedPlacement(strategy, devices, description, policy, False, tuple(notes))


def gather(strategy: tf.distribute.Strategy, values: Sequence[tf.Tensor]) -> list[tf.Tensor]:
    """Every replica's ``values`` (each rank 1 or more), concatenated in replica order."""
    result = _gatherer(strategy)(list(values))
    return list(strategy.experimental_local_results(result)[0])


@functools.lru_cache(maxsize=4)
def _gatherer(strategy: tf.distribute.Strategy) -> Any:
    """One tf.function per strategy, traced once per kind of input (not once per call)."""
    def gather_all(tensors: list[tf.Tensor]) -> Any:
        def replica(ts: list[tf.Tensor]) -> list[tf.Tensor]:
            context = tf.distribute.get_replica_context()
            # (identity: all_gather needs tensors made on the replica's device)
            gathered: list[tf.Tensor] = context.all_gather([tf.identity(t) for t in ts],
                                                           axis=0)
            return gathered
        return strategy.run(replica, args=(tensors,))
    return tf.function(gather_all, reduce_retracing=True)


def from_chief(strategy: tf.distribute.Strategy, tensors: Sequence[tf.Tensor]
               ) -> list[tf.Tensor]:
    """The values replica 0 (on the chief) holds, on every worker."""
    return [g[0] for g in gather(strategy, [tf.expand_dims(t, 0) for t in tensors])]


def check_same(strategy: tf.distribute.Strategy, text: str, problem: str) -> None:
    """Raise ProjectMismatch(``problem``) on every worker unless all passed the same text."""
    digest = int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)
    everyone = {int(v) for v in gather(strategy, [tf.constant([digest], tf.int64)])[0]}
    if len(everyone) > 1:
        raise ProjectMismatch(problem)
