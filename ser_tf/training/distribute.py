"""Training on several devices or machines with ``tf.distribute``: no home-made distribution.

``train.strategy``:

- ``default``: one device.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over this machine's GPUs (or, with none, over
  its logical CPU devices), gradients all-reduced every step.
- ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines named in the
  ``TF_CONFIG`` environment variable, which every worker gets with its own ``task``:

      {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}

  Worker 0 (or the task of type ``chief``, when the cluster has one) is the chief: it alone
  writes the run folder. The others write to a temporary folder that is deleted at the end, as
  TensorFlow's multi-worker guide does.

TensorFlow's documented practice, followed here: ``train.batch_size`` is the *global* batch,
which ``tf.distribute`` splits evenly over all replicas, so the learning rate tuned for it stays
valid; with ``train.per_replica_batch: true`` the batch is per replica instead, the global batch
grows with the replicas and the learning rate is scaled linearly with it. Datasets are sharded
with ``AutoShardPolicy.DATA``: the pipelines read lists of files or in-memory arrays, not one
file per worker, so every worker reads the (seeded, identically shuffled) list and keeps its own
slice of each global batch.

Nothing waits forever: the workers wait ``train.cluster_wait_s`` for each other at start;
TensorFlow's coordination service calls a worker dead once it has sent no heartbeat for
``train.peer_timeout_s`` and aborts every collective op, naming it; and each collective op gives
up after ``train.collective_timeout_s`` (``CommunicationOptions``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

from ser_tf.errors import DistributedError

STRATEGIES = ("default", "mirrored", "multiworker")
TF_CONFIG = "TF_CONFIG"
ROLES = ("chief", "worker")  # MultiWorkerMirroredStrategy's roles; it has no parameter servers


@dataclasses.dataclass(frozen=True)
class Cluster:
    """A validated ``TF_CONFIG``: the cluster's addresses by role, and this process's task."""

    jobs: Dict[str, Tuple[str, ...]]  # {"chief": ("host:port",), "worker": (...)}
    task_type: str
    task_index: int

    @property
    def n_workers(self) -> int:
        return sum(len(addresses) for addresses in self.jobs.values())

    @property
    def is_chief(self) -> bool:
        """The chief writes the run folder: the ``chief`` task, or worker 0 when there is none."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_index == 0

    def name(self, task_type: Optional[str] = None, task_index: Optional[int] = None) -> str:
        """``"worker 1 (10.0.0.2:12345)"``; default this process's own task."""
        task_type = self.task_type if task_type is None else task_type
        task_index = self.task_index if task_index is None else task_index
        addresses = self.jobs.get(task_type, ())
        where = f" ({addresses[task_index]})" if 0 <= task_index < len(addresses) else ""
        return f"{task_type} {task_index}{where}"


def read_tf_config(text: Optional[str] = None) -> Cluster:
    """Parse and check ``TF_CONFIG`` (default: the environment variable).

    Raises:
        DistributedError: no ``TF_CONFIG``, bad JSON, a missing ``cluster`` or ``task``, a role
            other than chief/worker, an address that is not ``host:port``, a repeated address, or
            a task that the cluster does not have. The message names the value and what was expected.
    """
    example = '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'
    if text is None:
        text = os.environ.get(TF_CONFIG)
    if not text or not text.strip():
        raise DistributedError(f"--strategy multiworker needs the {TF_CONFIG} environment variable, "
                               f"and it is not set; on each worker set e.g. {TF_CONFIG}='{example}'")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise DistributedError(f"{TF_CONFIG} is not valid JSON ({err}): {text!r}; expected e.g. {example}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cluster"), dict) or not isinstance(raw.get("task"), dict):
        raise DistributedError(f"{TF_CONFIG} must be an object with a 'cluster' object and a 'task' object, "
                               f"got {text!r}; expected e.g. {example}")
    jobs = {}
    seen: Dict[str, str] = {}
    for role, addresses in raw["cluster"].items():
        if role not in ROLES:
            raise DistributedError(f"{TF_CONFIG} cluster role {role!r} is not supported by "
                                   f"MultiWorkerMirroredStrategy; expected {' or '.join(ROLES)}")
        if isinstance(addresses, str):
            addresses = [addresses]
        if not isinstance(addresses, list) or not addresses:
            raise DistributedError(f"{TF_CONFIG} cluster.{role} must be a non-empty list of 'host:port' "
                                   f"addresses, got {addresses!r}")
        for index, address in enumerate(addresses):
            _check_address(address, where=f"cluster.{role}[{index}]")
            if address in seen:
                raise DistributedError(f"{TF_CONFIG} address {address!r} is given twice "
                                       f"({seen[address]} and {role} {index}); each task needs its own port")
            seen[address] = f"{role} {index}"
        jobs[role] = tuple(addresses)
    if len(jobs.get("chief", ())) > 1:
        raise DistributedError(f"{TF_CONFIG} may name one chief, got {len(jobs['chief'])}: {list(jobs['chief'])}")
    if not jobs:
        raise DistributedError(f"{TF_CONFIG} cluster names no worker; expected e.g. {example}")
    task_type, task_index = raw["task"].get("type"), raw["task"].get("index", 0)
    if task_type not in jobs:
        raise DistributedError(f"{TF_CONFIG} task.type {task_type!r} is not a role of the cluster; "
                               f"expected one of {sorted(jobs)}")
    if isinstance(task_index, bool) or not isinstance(task_index, int) or not 0 <= task_index < len(jobs[task_type]):
        raise DistributedError(f"{TF_CONFIG} task.index {task_index!r} is out of range: the cluster has "
                               f"{len(jobs[task_type])} {task_type} task(s), so 0..{len(jobs[task_type]) - 1}")
    return Cluster(jobs=jobs, task_type=task_type, task_index=task_index)


def _check_address(address, *, where: str) -> None:
    match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d+)", address) if isinstance(address, str) else None
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise DistributedError(f"{TF_CONFIG} {where} must be a 'host:port' address with a port in 1..65535, "
                               f"got {address!r}")


def make_strategy(name: str, *, collective_timeout_s: float = 300.0, peer_timeout_s: float = 30.0,
                  cluster_wait_s: float = 600.0):
    """Create the ``tf.distribute`` strategy ``name`` (one of ``STRATEGIES``).

    Call it before any other TensorFlow op: a multi-worker strategy configures the collective ops
    and the coordination service of the TensorFlow runtime, which cannot change once it has started.

    Args:
        collective_timeout_s: multiworker: seconds (> 0) after which a collective op that still
            waits for a peer fails.
        peer_timeout_s: multiworker: seconds (> 0) without a heartbeat after which a worker is
            dead; the others then stop with its name.
        cluster_wait_s: multiworker: seconds (> 0) the workers wait for each other at start.

    Raises:
        DistributedError: an invalid ``TF_CONFIG`` or timeout, or workers that did not all start.
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        # Without GPUs MirroredStrategy would take CPU:0 only; the logical CPUs are the replicas.
        devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name != "multiworker":
        raise DistributedError(f"train.strategy must be one of {STRATEGIES} (or auto), got {name!r}")
    cluster = read_tf_config()  # a clear message before TensorFlow's own, terser checks
    timeouts = {"collective_timeout_s": collective_timeout_s, "peer_timeout_s": peer_timeout_s,
                "cluster_wait_s": cluster_wait_s}
    for key, value in timeouts.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise DistributedError(f"train.{key} must be a number of seconds > 0, got {value!r}")
    _configure_coordination(cluster, peer_timeout_s=peer_timeout_s, cluster_wait_s=cluster_wait_s)
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=collective_timeout_s)
    missing = (f"{cluster.name()}: the workers of {TF_CONFIG} did not all join within train.cluster_wait_s "
               f"({cluster_wait_s:g} s); cluster {dict((job, list(a)) for job, a in cluster.jobs.items())}. "
               "Start every worker, and check the addresses and that their ports are open")
    # TensorFlow 2.21 waits for a missing worker without any time limit (its register timeout
    # does not reach the strategy's start-up), so a watchdog bounds the wait.
    with _watchdog(cluster_wait_s, message=missing):
        try:
            strategy = _multi_worker_strategy_class()(communication_options=options)
            # A first all-reduce: every worker has joined once it returns.
            strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)
        except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError) as err:
            raise DistributedError(f"{missing}. TensorFlow said: {str(err).strip().splitlines()[0]}") from None
    return strategy


# The watchdog: a bare Python process that sleeps, then names the problem and kills its parent,
# unless the parent stopped it first (or died: then its parent id has changed, and it does nothing).
_WATCHDOG = (
    "import os, signal, sys, time\n"
    "time.sleep(float(sys.argv[1]))\n"
    "if os.getppid() == int(sys.argv[3]):\n"
    "    sys.stderr.write(sys.argv[2] + '\\n'); sys.stderr.flush(); os.kill(int(sys.argv[3]), signal.SIGKILL)\n"
)


@contextlib.contextmanager
def _watchdog(seconds: float, *, message: str):
    """Kill this process, saying ``error: message``, unless the block finishes in ``seconds``.

    A separate process, not a thread: while TensorFlow waits for the cluster its C++ code holds
    the interpreter lock, so no thread (nor signal handler) of this process could run."""
    import subprocess

    guard = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(seconds), f"error: {message}", str(os.getpid())])
    try:
        yield
    finally:
        guard.kill()
        guard.wait()


def _configure_coordination(cluster: Cluster, *, peer_timeout_s: float, cluster_wait_s: float) -> None:
    """Set up TensorFlow's coordination service as ``MultiWorkerMirroredStrategy`` would (same
    leader, same jobs), plus our timeouts: by default a worker waits for its peers for an hour
    and the strategy takes whatever heartbeat timeout the runtime has. The strategy keeps a
    service that is already configured."""
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context
    from tensorflow.python.training import server_lib

    spec = server_lib.ClusterSpec({job: list(addresses) for job, addresses in cluster.jobs.items()})
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=multi_worker_util.coordination_leader(spec),
        coordinated_jobs=[coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(cluster.jobs[job]))
                          for job in ROLES if job in cluster.jobs],
        cluster_register_timeout_in_ms=int(cluster_wait_s * 1000),
        heartbeat_timeout_in_ms=int(peer_timeout_s * 1000),
    )


def _multi_worker_strategy_class():
    """``MultiWorkerMirroredStrategy`` with the ``reduce`` that Keras 3's ``fit`` expects.

    Keras 3 (3.15) and this strategy disagree twice (Keras issue #20585, TensorFlow #72388):
    ``fit`` reduces the first ``(x, y)`` batch as one nest to learn its shapes, and the strategy
    takes one tensor at a time ("Attempt to convert a value (PerReplica...)"); and each step's
    metrics, scalars, are reduced along ``axis=0``, which a scalar lacks ("Invalid reduction
    dimension 0"). Here a nest is reduced tensor by tensor, and a scalar across the replicas,
    which is what Keras does on one machine.
    """
    import tensorflow as tf

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            parent = super()

            def reduce_one(v):
                first = v.values[0] if isinstance(v, tf.distribute.DistributedValues) else v
                scalar = getattr(first, "shape", None) is not None and first.shape.rank == 0
                return parent.reduce(reduce_op, v, axis=None if scalar else axis)

            return tf.nest.map_structure(reduce_one, value)

    return KerasMultiWorkerStrategy


def scale_for_replicas(config, *, n_replicas: int):
    """``config`` (a ``SerConfig``) with ``train.per_replica_batch`` applied: the global batch is
    ``batch_size * n_replicas`` and the learning rate grows with it (the linear scaling rule).
    Unchanged when the batch is already global (the default) or there is one replica."""
    train = config.train
    if not train.per_replica_batch or n_replicas == 1:
        return config
    scaled = dataclasses.replace(train, batch_size=train.batch_size * n_replicas,
                                 learning_rate=train.learning_rate * n_replicas)
    return dataclasses.replace(config, train=scaled)


def prepare_for_replicas(model, *, strategy, train_dataset) -> None:
    """Make a compiled ``model`` train under ``strategy`` as it would on one device with the same
    global batch and seed. Call it inside ``strategy.scope()``, after ``compile``.

    - Every ``BatchNormalization`` computes its batch statistics over the global batch rather
      than over each replica's slice (``synchronized``). Inference, which uses the moving
      statistics, is unchanged.
    - Keras 3 builds the compiled loss and metrics of a distributed model from a first batch that
      it draws in ``fit`` with a fresh iterator (``_maybe_symbolic_build``). That spends one
      iteration of the training set, so every reshuffle and augmentation draw would be one epoch
      ahead of a single-device run's. Building them from ``train_dataset.element_spec`` instead
      reads no data.
    """
    import keras

    if getattr(model, "_distribute_strategy", None) is None:  # the default strategy: nothing to do
        return
    if strategy.num_replicas_in_sync > 1:
        for layer in model._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True
    model._symbolic_build(data_batch=train_dataset.element_spec)
    # Everything is built now; Keras's own pass would only spend the iteration.
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def cluster_of(strategy) -> Optional[Cluster]:
    """The ``TF_CONFIG`` cluster of a multi-worker strategy; ``None`` for a single-machine one."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return read_tf_config()
    return None


@contextlib.contextmanager
def worker_run_dir(run_dir: Path, *, cluster: Optional[Cluster], resume: bool) -> Iterator[Path]:
    """The folder this process writes its run into: ``run_dir`` on the chief (and on one
    machine), a temporary folder elsewhere, deleted on exit.

    With ``resume`` a non-chief worker starts from a copy of the chief's ``run_dir``, so that it
    restores the same epoch backup: ``--resume`` under ``multiworker`` needs the run folder on
    storage every worker reads (a shared file system), as TensorFlow's ``BackupAndRestore`` does.
    """
    if cluster is None or cluster.is_chief:
        yield Path(run_dir)
        return
    scratch = Path(tempfile.mkdtemp(prefix=f"ser_tf-{cluster.task_type}{cluster.task_index}-"))
    try:
        own = scratch / Path(run_dir).name
        if resume:
            if not Path(run_dir).is_dir():
                raise DistributedError(f"--resume {run_dir}: {cluster.name()} cannot read the chief's run "
                                       "folder; under multiworker it must be on storage every worker reads")
            shutil.copytree(run_dir, own)
        yield own
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def shard_by_data(dataset):
    """``dataset`` with ``AutoShardPolicy.DATA``: each worker keeps its slice of every batch."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def peer_failure(err: Exception, cluster: Cluster) -> DistributedError:
    """A ``DistributedError`` for a collective op that failed, naming the peer that TensorFlow
    found dead (the coordination service's missed heartbeats, or the older peer health check)."""
    text = str(err)
    own = (cluster.task_type, cluster.task_index)
    peers = []
    for job, index in re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", text):
        if (job, int(index)) != own and (job, int(index)) not in peers:
            peers.append((job, int(index)))
    if "heartbeat" in text or "unhealthy" in text:
        how = "stopped sending heartbeats"
    elif "is down" in text:
        how = "failed its peer health check"
    elif "timed out" in text.lower() or "deadline" in text.lower():
        how = "did not answer within train.collective_timeout_s"
    else:
        how = "stopped answering"
    if peers:
        what = f"{', '.join(cluster.name(job, index) for job, index in peers)} {how}"
    else:
        what = f"a peer {how}"
    detail = next((line.strip() for line in text.splitlines()
                   if "unhealthy" in line or "is down" in line or "timed out" in line.lower()), type(err).__name__)
    return DistributedError(f"multi-worker training stopped on {cluster.name()}: {what} ({detail}). "
                            "Restart every worker; --resume RUN continues from the last finished epoch")
