import json
import socket

import pytest

from studio.core.cluster import ClusterError, check_port_free, cluster_from_options


def test_cluster_option_becomes_tf_config():
    cluster = cluster_from_options("localhost:2001, localhost:2002", 1, {})
    assert cluster.size == 2 and cluster.address == "localhost:2002"
    assert not cluster.is_chief and cluster.name == "worker 1"
    assert json.loads(cluster.tf_config()) == {
        "cluster": {"worker": ["localhost:2001", "localhost:2002"]},
        "task": {"type": "worker", "index": 1}}
    assert cluster_from_options("a:1,b:2", 0, {}).is_chief


def test_tf_config_with_a_chief():
    config = {"cluster": {"chief": ["c:1"], "worker": ["w:1", "w:2"]},
              "task": {"type": "worker", "index": 0}}
    cluster = cluster_from_options(None, None, {"TF_CONFIG": json.dumps(config)})
    assert cluster.size == 3 and not cluster.is_chief
    config["task"] = {"type": "chief", "index": 0}
    assert cluster_from_options(None, None, {"TF_CONFIG": json.dumps(config)}).is_chief


@pytest.mark.parametrize(("cluster", "index", "environ", "words"), [
    ("a:1,b:2", 2, {}, "--task-index 2 is out of range"),
    ("a:1,b:2", None, {}, "needs --task-index"),
    ("a:1,b", 0, {}, "'b' is not host:port"),
    ("a:1,b:99999", 0, {}, "port from 1 to 65535"),
    ("a:1,a:1", 0, {}, "twice"),
    (None, 1, {}, "--task-index needs --cluster"),
    (None, None, {}, "set TF_CONFIG"),
    (None, None, {"TF_CONFIG": "{oops"}, "not valid JSON"),
    (None, None, {"TF_CONFIG": "[]"}, '{"cluster"'),
    (None, None, {"TF_CONFIG": '{"cluster": {"ps": ["a:1"]}, "task": {}}'},
     "parameter servers"),
    (None, None, {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief"}}'},
     "not a job"),
    (None, None, {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, '
                               '"task": {"type": "worker", "index": 3}}'},
     "task.index 3 is out of range"),
    (None, None, {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}}'}, '"task"'),
])
def test_bad_clusters_are_named(cluster, index, environ, words):
    with pytest.raises(ClusterError, match=None) as raised:
        cluster_from_options(cluster, index, environ)
    assert words in str(raised.value)


def test_a_port_in_use_on_this_machine_is_refused():
    with socket.socket() as server:
        server.bind(("", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(ClusterError, match=f"port {port} .* already in use"):
            check_port_free(f"localhost:{port}")
    check_port_free(f"localhost:{port}")  # free again
    with socket.socket() as server:
        server.bind(("", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(ClusterError, match="already in use"):
            check_port_free(f"10.1.2.3:{port}")  # this task's address by another name
