"""``train.py --strategy mirrored|multiworker`` for real: TensorFlow processes on this machine.

- ``mirrored`` over two logical CPU devices (set up in a fresh process, before TensorFlow
  initialises its devices) and ``multiworker`` with two worker processes on 127.0.0.1, each with
  its own ``TF_CONFIG``, train one epoch of a tiny model; their saved models must predict what a
  single-device run with the same global batch and seed predicts, within ``ATOL``.
- A worker killed mid-epoch: the chief names it and exits within ``DEAD_PEER_EXIT_S``; the job then
  continues with ``--resume``.

Every process writes to a log file (a full pipe would block it), is waited for with a deadline,
and is killed if a test fails, so no worker outlives its test.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ser_tf import runs
from tests.training import test_train_workflow

# The workflow test's small generated demo corpus (48 clips, 6 speakers), one per module.
demo_root = test_train_workflow.demo_root

ROOT = Path(__file__).resolve().parents[2]
# Float32 sums in another order (two replicas, synchronized batch norm) after one epoch: measured
# 6e-8; a real divergence (another batch order, per-replica batch statistics) moves them by ~1e-3.
ATOL = 1e-5
RUN_S = 300  # the most a group of training processes may take before the test kills them
DEAD_PEER_EXIT_S = 60  # peer_timeout_s=5 and collective_timeout_s=30 below: detection takes ~10 s
TINY = [
    "--arch", "cnn_lstm_small", "--seed", "7", "--batch-size", "8",
    "--set", "audio.duration=1.0", "--set", "model.conv_filters=[4, 8]", "--set", "model.rnn_units=8",
    "--set", "model.dense_units=8",
    # Dropout draws its masks per replica, so only a model without it can match one device exactly.
    "--set", "model.dropout=0.0",
]
# Two logical CPU devices must be declared before TensorFlow initialises its devices.
MIRRORED_BOOT = (
    "import sys, tensorflow as tf; cpu = tf.config.list_physical_devices('CPU')[0]; "
    "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2); "
    "from ser_tf.training.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _free_ports(n: int):
    probes = [socket.socket() for _ in range(n)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _tf_config(ports, index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


class Processes:
    """Started processes, each logging to ``<logs>/<name>.log``; all killed on leaving the block."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs = {}

    def start(self, name, argv, *, tf_config=None):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        env.pop("TF_CONFIG", None)
        env.pop(runs.MODELS_ENV, None)
        if tf_config is not None:
            env["TF_CONFIG"] = tf_config
        log = open(self.logs / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen([sys.executable, *argv], cwd=self.logs, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def log(self, name) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def wait(self, name, deadline: float) -> int:
        try:
            return self.procs[name].wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still running after its deadline; its log ends:\n{self.log(name)[-3000:]}")

    def wait_ok(self, *names, seconds: float = RUN_S):
        deadline = time.monotonic() + seconds
        for name in names:
            code = self.wait(name, deadline)
            assert code == 0, f"{name} exited with {code}:\n{self.log(name)[-3000:]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def _train(*args):
    return [str(ROOT / "train.py"), *TINY, *args]


def _predict(run: Path) -> np.ndarray:
    import ser_tf

    clips = np.random.default_rng(0).normal(0.0, 0.1, (4, 16000)).astype("float32")
    return ser_tf.load_keras_model(run / "model.keras").predict(clips, verbose=0)


@pytest.fixture(scope="module")
def trained(demo_root, tmp_path_factory):
    """One epoch each, all at once: one device, mirrored over 2 logical CPUs, 2 worker processes."""
    work = tmp_path_factory.mktemp("strategies")
    data = ["--data", f"demo={demo_root}", "--epochs", "1"]
    ports = _free_ports(2)
    with Processes(work) as procs:
        procs.start("default", _train(*data, "--strategy", "default", "--out", str(work / "default")))
        procs.start("mirrored", ["-c", MIRRORED_BOOT, *TINY, *data, "--strategy", "mirrored",
                                 "--out", str(work / "mirrored")])
        for index in (0, 1):
            procs.start(f"worker{index}", _train(*data, "--strategy", "multiworker", "--out", str(work / "multiworker")),
                        tf_config=_tf_config(ports, index))
        procs.wait_ok("default", "mirrored", "worker0", "worker1")
        return work, procs


def test_mirrored_over_two_logical_cpus_matches_one_device(trained):
    work, procs = trained
    assert "strategy mirrored" in procs.log("mirrored") and "2 replica(s), global batch 8" in procs.log("mirrored")
    np.testing.assert_allclose(_predict(work / "mirrored"), _predict(work / "default"), atol=ATOL)


def test_two_worker_processes_match_one_device_and_only_the_chief_writes(trained):
    work, procs = trained
    chief, other = procs.log("worker0"), procs.log("worker1")
    assert "strategy multiworker" in chief and "2 replica(s), global batch 8" in chief
    np.testing.assert_allclose(_predict(work / "multiworker"), _predict(work / "default"), atol=ATOL)
    # The same test metrics as one device: evaluation gathered every worker's slice, in order.
    metrics = [json.loads((work / name / "report" / "metrics.json").read_text())
               for name in ("multiworker", "default")]
    assert metrics[0]["confusion_matrix"] == metrics[1]["confusion_matrix"]
    assert metrics[0]["ua"] == pytest.approx(metrics[1]["ua"])
    assert yaml_strategy(work / "multiworker") == "multiworker"
    # Worker 1 wrote into a scratch folder, deleted at its end, and said so.
    assert "worker 1 (127.0.0.1:" in other and "this worker is done; the chief wrote the run folder" in other
    scratch = Path(other.split("this worker writes to ")[1].split(" (deleted")[0])
    assert not scratch.exists() and not scratch.parent.exists()


def yaml_strategy(run: Path) -> str:
    import yaml

    return yaml.safe_load((run / "config.yaml").read_text())["train"]["strategy"]


def test_a_worker_killed_mid_epoch_stops_the_chief_and_the_run_resumes(demo_root, tmp_path):
    run = tmp_path / "run"
    ports = _free_ports(2)
    # 8 steps an epoch (batch 4), so the kill lands inside epoch 2; a short heartbeat timeout.
    argv = _train("--data", f"demo={demo_root}", "--epochs", "3", "--batch-size", "4",
                  "--set", "train.peer_timeout_s=5", "--set", "train.collective_timeout_s=30",
                  "--strategy", "multiworker", "--out", str(run))
    with Processes(tmp_path) as procs:
        for index in (0, 1):
            procs.start(f"worker{index}", argv, tf_config=_tf_config(ports, index))
        deadline = time.monotonic() + RUN_S
        while "Epoch 2/3" not in procs.log("worker0"):
            assert procs.procs["worker0"].poll() is None, procs.log("worker0")[-3000:]
            assert time.monotonic() < deadline, "epoch 2 never started:\n" + procs.log("worker0")[-3000:]
            time.sleep(0.2)
        procs.procs["worker1"].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        code = procs.wait("worker0", killed + DEAD_PEER_EXIT_S)
        waited = time.monotonic() - killed
        chief = procs.log("worker0")
        assert code == 2, chief[-3000:]
        assert f"error: multi-worker training stopped on worker 0 (127.0.0.1:{ports[0]}): " \
               f"worker 1 (127.0.0.1:{ports[1]})" in chief, chief[-3000:]
        assert waited < DEAD_PEER_EXIT_S
    assert (run / "backup").is_dir() and not (run / "report" / "metrics.json").exists()

    # Both workers restarted with --resume continue from the chief's epoch-1 backup.
    ports = _free_ports(2)
    with Processes(tmp_path) as procs:
        for index in (0, 1):
            procs.start(f"resumed{index}", [str(ROOT / "train.py"), "--resume", str(run)],
                        tf_config=_tf_config(ports, index))
        procs.wait_ok("resumed0", "resumed1")
    assert (run / "report" / "metrics.json").is_file() and not (run / "backup").exists()
    epochs = (run / "training_history.csv").read_text().strip().splitlines()[1:]
    assert [row.split(",")[0] for row in epochs] == ["0", "1", "2"]


def test_a_worker_whose_peer_never_starts_stops_after_cluster_wait_s(demo_root, tmp_path):
    ports = _free_ports(2)
    with Processes(tmp_path) as procs:
        procs.start("alone", _train("--data", f"demo={demo_root}", "--set", "train.cluster_wait_s=5",
                                    "--strategy", "multiworker", "--out", str(tmp_path / "run")),
                    tf_config=_tf_config(ports, 0))
        code = procs.wait("alone", time.monotonic() + 120)
    assert code == -signal.SIGKILL  # the watchdog's: TensorFlow's wait cannot be interrupted
    assert (f"error: worker 0 (127.0.0.1:{ports[0]}): the workers of TF_CONFIG did not all join within "
            f"train.cluster_wait_s (5 s); cluster {{'worker': ['127.0.0.1:{ports[0]}', '127.0.0.1:{ports[1]}']}}"
            ) in procs.log("alone")
    assert not (tmp_path / "run").exists()
