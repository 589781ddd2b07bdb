"""ser_tf.training.distribute without starting a cluster: TF_CONFIG, roles, folders, messages.

The real multi-process runs are in ``test_distribute_workers.py``.
"""

import dataclasses
import json

import pytest

from ser_tf.errors import DistributedError
from ser_tf.training import distribute
from ser_tf.training.cli import main

TWO = {"cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}, "task": {"type": "worker", "index": 1}}


def test_a_valid_tf_config_names_the_tasks_and_the_chief():
    cluster = distribute.read_tf_config(json.dumps(TWO))
    assert cluster.n_workers == 2 and not cluster.is_chief
    assert cluster.name() == "worker 1 (127.0.0.1:2223)"
    first = distribute.read_tf_config(json.dumps({**TWO, "task": {"type": "worker", "index": 0}}))
    assert first.is_chief  # worker 0 is the chief when the cluster has no chief task
    with_chief = {"cluster": {"chief": ["10.0.0.1:1"], "worker": ["10.0.0.2:1"]},
                  "task": {"type": "worker", "index": 0}}
    assert not distribute.read_tf_config(json.dumps(with_chief)).is_chief
    assert distribute.read_tf_config(json.dumps({**with_chief, "task": {"type": "chief", "index": 0}})).is_chief


@pytest.mark.parametrize("text, expected", [
    ("", "TF_CONFIG environment variable, and it is not set"),
    ("{cluster: 1", "TF_CONFIG is not valid JSON"),
    (json.dumps({"cluster": TWO["cluster"]}), "a 'task' object"),
    (json.dumps({**TWO, "cluster": {"ps": ["h:1"], "worker": ["h:2"]}}), "role 'ps' is not supported"),
    (json.dumps({**TWO, "cluster": {"worker": []}}), "non-empty list of 'host:port'"),
    (json.dumps({**TWO, "cluster": {"worker": ["127.0.0.1", "h:2"]}}), "cluster.worker[0] must be a 'host:port'"),
    (json.dumps({**TWO, "cluster": {"worker": ["h:1", "h:70000"]}}), "got 'h:70000'"),
    (json.dumps({**TWO, "cluster": {"worker": ["h:1", "h:1"]}}), "'h:1' is given twice"),
    (json.dumps({**TWO, "task": {"type": "worker", "index": 2}}), "task.index 2 is out of range"),
    (json.dumps({**TWO, "task": {"type": "chief", "index": 0}}), "task.type 'chief' is not a role"),
])
def test_an_invalid_tf_config_says_what_is_wrong(text, expected):
    with pytest.raises(DistributedError, match="TF_CONFIG") as info:
        distribute.read_tf_config(text)
    assert expected in str(info.value)


def test_train_py_rejects_an_invalid_tf_config_before_tensorflow_starts(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TF_CONFIG", json.dumps({**TWO, "task": {"type": "worker", "index": 5}}))
    assert main(["--arch", "cnn_lstm_small", "--strategy", "multiworker", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "error: TF_CONFIG task.index 5 is out of range" in err
    assert not (tmp_path / "run").exists()


def test_per_replica_batch_scales_the_batch_and_the_learning_rate():
    from ser_tf.settings import SerConfig

    config = SerConfig()
    assert distribute.scale_for_replicas(config, n_replicas=4) is config  # the batch is global by default
    per_replica = dataclasses.replace(config, train=dataclasses.replace(config.train, per_replica_batch=True))
    scaled = distribute.scale_for_replicas(per_replica, n_replicas=4)
    assert scaled.train.batch_size == 4 * config.train.batch_size
    assert scaled.train.learning_rate == pytest.approx(4 * config.train.learning_rate)


def test_only_the_chief_writes_the_run_folder(tmp_path):
    run = tmp_path / "run"
    chief = distribute.read_tf_config(json.dumps({**TWO, "task": {"type": "worker", "index": 0}}))
    with distribute.worker_run_dir(run, cluster=chief, resume=False) as own:
        assert own == run
    other = distribute.read_tf_config(json.dumps(TWO))
    with distribute.worker_run_dir(run, cluster=other, resume=False) as own:
        assert own.name == "run" and own != run and not own.exists()
        own.mkdir()
        (own / "model.keras").write_text("scratch")
    assert not own.parent.exists()  # the scratch folder is gone
    (run / "backup").mkdir(parents=True)
    with distribute.worker_run_dir(run, cluster=other, resume=True) as own:
        assert (own / "backup").is_dir()  # a resumed worker restores the chief's backup
    with pytest.raises(DistributedError, match="cannot read the chief's run folder"):
        with distribute.worker_run_dir(tmp_path / "elsewhere", cluster=other, resume=True):
            pass


def test_a_dead_peer_is_named_in_the_error():
    cluster = distribute.read_tf_config(json.dumps({**TWO, "task": {"type": "worker", "index": 0}}))
    # The text TensorFlow 2.21's coordination service gives when a worker stops (seen in a real run).
    said = ("Collective ops is aborted by: Error reported from /job:worker/task:1: The following tasks are "
            "unhealthy (stopped sending heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have crashed.")
    message = str(distribute.peer_failure(RuntimeError(said), cluster))
    assert message.startswith("multi-worker training stopped on worker 0 (127.0.0.1:2222): "
                              "worker 1 (127.0.0.1:2223) stopped sending heartbeats")
    assert "--resume" in message
    health = "cluster check alive failed, /job:worker/replica:0/task:1 is down"
    assert "worker 1 (127.0.0.1:2223) failed its peer health check" in str(
        distribute.peer_failure(RuntimeError(health), cluster))


def test_an_unknown_strategy_is_refused():
    from ser_tf.errors import ConfigError
    from ser_tf.settings import TrainConfig
    from ser_tf.training.runtime import resolve_runtime

    with pytest.raises(ConfigError, match="multiworker, got 'horovod'"):
        resolve_runtime(train=TrainConfig(strategy="horovod"))
    assert resolve_runtime(train=TrainConfig(strategy="multiworker")).strategy_name == "multiworker"
