"""The cluster of a multi-worker run: TensorFlow's TF_CONFIG, or ``--cluster`` and
``--task-index`` turned into one, checked before TensorFlow starts.

A wrong cluster would otherwise show up as a worker waiting forever for peers that never come,
so every mistake here is a one-line message that names the setting and what to do.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.core.errors import StudioError

TF_CONFIG = "TF_CONFIG"
_TASK_TYPES = ("chief", "worker")


class ClusterError(StudioError):
    """The cluster description is malformed or does not include this task."""


@dataclass(frozen=True)
class Cluster:
    """Every task's address by job ("chief" and/or "worker") and this process's task."""

    jobs: Mapping[str, tuple[str, ...]]
    task_type: str
    task_index: int

    @property
    def size(self) -> int:
        return sum(len(addresses) for addresses in self.jobs.values())

    @property
    def is_chief(self) -> bool:
        """The task that writes the run: the chief, or worker 0 when there is no chief."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_index == 0

    @property
    def address(self) -> str:
        return self.jobs[self.task_type][self.task_index]

    @property
    def name(self) -> str:
        return f"{self.task_type} {self.task_index}"

    def tf_config(self) -> str:
        return json.dumps({"cluster": {job: list(a) for job, a in self.jobs.items()},
                           "task": {"type": self.task_type, "index": self.task_index}})


def cluster_from_options(cluster: str | None, task_index: int | None,
                         environ: Mapping[str, str]) -> Cluster:
    """``--cluster host:port,...`` with ``--task-index``, else the TF_CONFIG variable."""
    if cluster is not None:
        addresses = tuple(part.strip() for part in cluster.split(","))
        for address in addresses:
            _check_address(address, "--cluster")
        if len(set(addresses)) != len(addresses):
            raise ClusterError(f"--cluster names an address twice: {cluster!r}.")
        if task_index is None:
            raise ClusterError("--cluster needs --task-index: this worker's place in the list "
                               "(0 on the first machine, 1 on the second, ...).")
        if not 0 <= task_index < len(addresses):
            raise ClusterError(f"--task-index {task_index} is out of range: --cluster lists "
                               f"{len(addresses)} workers, numbered 0 to {len(addresses) - 1}.")
        return Cluster({"worker": addresses}, "worker", task_index)
    if task_index is not None:
        raise ClusterError("--task-index needs --cluster (or leave both out and set TF_CONFIG).")
    text = environ.get(TF_CONFIG, "")
    if not text.strip():
        raise ClusterError("--strategy multiworker needs the cluster: set TF_CONFIG (Kubeflow's "
                           "TFJob does) or give --cluster host:port,host:port --task-index N.")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ClusterError(f"TF_CONFIG is not valid JSON ({error}).") from None
    return _from_tf_config(data)


def _from_tf_config(data: Any) -> Cluster:
    if not isinstance(data, Mapping) or not isinstance(data.get("cluster"), Mapping):
        raise ClusterError('TF_CONFIG must be {"cluster": {"worker": ["host:port", ...]}, '
                           '"task": {"type": "worker", "index": N}}.')
    jobs: dict[str, tuple[str, ...]] = {}
    for job, addresses in data["cluster"].items():
        if job not in _TASK_TYPES:
            raise ClusterError(f"TF_CONFIG: the studio trains with chief and worker tasks "
                               f"only, not {job!r} (parameter servers are not supported).")
        if not isinstance(addresses, list) or not addresses:
            raise ClusterError(f"TF_CONFIG: cluster.{job} must be a list of host:port.")
        for address in addresses:
            _check_address(address, f"TF_CONFIG cluster.{job}")
        jobs[job] = tuple(addresses)
    if "chief" in jobs and len(jobs["chief"]) != 1:
        raise ClusterError("TF_CONFIG: cluster.chief must list exactly one address.")
    every = [a for addresses in jobs.values() for a in addresses]
    if len(set(every)) != len(every):
        raise ClusterError("TF_CONFIG names an address twice.")
    task = data.get("task")
    if not isinstance(task, Mapping):
        raise ClusterError('TF_CONFIG needs "task": {"type": "worker", "index": N}.')
    kind, index = task.get("type"), task.get("index", 0)
    if kind not in jobs:
        raise ClusterError(f"TF_CONFIG: task.type {kind!r} is not a job of the cluster "
                           f"({', '.join(jobs)}).")
    if isinstance(index, bool) or not isinstance(index, int) or not (
            0 <= index < len(jobs[kind])):
        raise ClusterError(f"TF_CONFIG: task.index {index!r} is out of range: cluster.{kind} "
                           f"has {len(jobs[kind])} addresses, numbered from 0.")
    return Cluster(jobs, kind, index)


def _check_address(address: object, where: str) -> None:
    if not isinstance(address, str) or address.count(":") < 1:
        raise ClusterError(f"{where}: {address!r} is not host:port (for example "
                           "10.0.0.5:12345).")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ClusterError(f"{where}: {address!r} is not host:port with a port from 1 to "
                           "65535.")


def check_port_free(address: str) -> None:
    """Refuse at once this task's port when another program listens on it (TensorFlow
    would fail or hang). Its server listens on every interface, whatever the host part."""
    port = address.rpartition(":")[2]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", int(port)))
        except OSError:
            raise ClusterError(f"port {port} of {address} is already in use on this machine: "
                               "stop the program using it or choose another port in the "
                               "cluster.") from None
