"""What every benchmark shares: repeats and their spread, the baseline from the same run, the ratio,
the target, the machine, and one JSON file per benchmark (``benchmarks/results/NAME.json``).

A benchmark script builds a :class:`Bench`, times its contenders with :meth:`Bench.repeat` (or adds
figures measured otherwise with :meth:`Bench.figure`), pairs each with the baseline of the same run
in :meth:`Bench.compare`, and ends with :meth:`Bench.write`. ``benchmarks/run.py`` runs the scripts
and prints one table from their files; ``schema.json`` beside this file is the files' contract.

Timings are never asserted here or in the tests: a target is recorded with its figure, and
``met`` says whether this run reached it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SCHEMA_PATH = ROOT / "benchmarks" / "schema.json"
RUSAGE = ROOT / "benchmarks" / "_rusage.py"
OTHER_LOAD_CORES = 0.2  # other processes' average CPU use (cores) above which a run is flagged
SCHEMA_ID = "ser_tf-benchmark/1"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ravdess-speech-16k"

# How a ratio reads. "speedup": baseline / figure, above 1 is faster than the baseline (times and
# costs). "relative": figure / baseline, the figure in units of the baseline (memory, RTF, factors
# such as "pipeline epoch / in-memory epoch"). "throughput": figure / baseline for rates (higher is better).
RATIO_KINDS = ("speedup", "relative", "throughput")
TARGET_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
              "<": lambda a, b: a < b, ">": lambda a, b: a > b}


@dataclass
class Stats:
    """Repeated measurements of one figure, in ``unit``."""

    values: List[float]
    unit: str = "s"

    def __post_init__(self):
        if not self.values:
            raise ValueError("Stats needs at least one value, got none")
        self.values = [float(v) for v in self.values]

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    def as_json(self, name: str) -> dict:
        return {"name": name, "unit": self.unit, "repeats": self.values, "median": self.median,
                "min": min(self.values), "max": max(self.values)}


def machine() -> dict:
    """CPU model, cores, memory and library versions of this machine, without importing TF."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass

    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {"cpu_model": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "tensorflow": version("tensorflow"), "keras": version("keras"),
            "keras_hub": version("keras-hub"), "librosa": version("librosa")}


def load_average() -> List[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _command_line(argv: Sequence[str]) -> str:
    """``python ARGV`` with paths relative to the checkout, as a reader would type it there."""
    def relative(arg: str) -> str:
        return arg.replace(f"{ROOT}{os.sep}", "").replace(f"{ROOT.parent}{os.sep}", f"..{os.sep}")

    return shlex.join(["python"] + [relative(a) for a in argv])


def busy_cpu_s() -> Optional[float]:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``: every state but
    idle and iowait); ``None`` where there is no ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user..steal, less idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process (all threads) and of its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class ProcessUsage:
    """What ``/usr/bin/time -v`` reports for one child process, from ``os.wait4``."""

    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    minor_faults: int
    major_faults: int
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def sys_share(self) -> float:
        """System time as a fraction of all CPU time (user + system)."""
        total = self.user_s + self.sys_s
        return self.sys_s / total if total > 0 else 0.0


def run_process(cmd: Sequence[str], *, env: Optional[Dict[str, str]] = None,
                cwd: Optional[os.PathLike] = None, check: bool = True) -> ProcessUsage:
    """Run ``cmd`` to completion and return its wall, user and system time, peak RSS and page
    faults (the figures of ``/usr/bin/time -v``). ``check`` raises on a non-zero exit, with the
    command and the tail of its stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "rusage.json"
        # through _rusage.py: a child forked from this (maybe large) process would report this
        # process's memory as its own peak (see _rusage.py)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(RUSAGE), str(report), *map(str, cmd)],
                              env=env, cwd=cwd, stdout=out, stderr=err)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if proc.returncode != 0 or not report.is_file():
            raise RuntimeError(f"could not measure {shlex.join(map(str, cmd))}: {stderr[-3000:]}")
        usage = json.loads(report.read_text())
    if check and usage["returncode"] != 0:
        raise RuntimeError(f"benchmark command failed with exit code {usage['returncode']}: "
                           f"{shlex.join(map(str, cmd))}\n{stderr[-3000:]}")
    return ProcessUsage(wall_s=wall, user_s=usage["user_s"], sys_s=usage["sys_s"],
                        peak_rss_mb=usage["maxrss_kb"] / 1024.0, minor_faults=usage["minflt"],
                        major_faults=usage["majflt"], returncode=usage["returncode"],
                        stdout=stdout, stderr=stderr)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class Bench:
    """One benchmark's results, written as one JSON file.

    ``quick`` marks a smoke run on tiny inputs (its figures are not comparable with a full run's).
    """

    name: str
    title: str
    quick: bool = False
    out: Optional[Path] = None
    command: str = field(default_factory=lambda: _command_line(sys.argv))
    measurements: List[dict] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    status: str = "ok"
    reason: Optional[str] = None

    def __post_init__(self):
        self._started = time.perf_counter()
        self._load_before = load_average()
        self._busy_before, self._own_before = busy_cpu_s(), own_cpu_s()

    @classmethod
    def from_args(cls, name: str, title: str, args: argparse.Namespace) -> "Bench":
        return cls(name=name, title=title, quick=bool(args.quick),
                   out=Path(args.json) if args.json else RESULTS / f"{name}.json")

    def repeat(self, fn: Callable[[], object], *, repeats: int, warmup: int = 0,
               unit: str = "s", scale: float = 1.0) -> Stats:
        """Wall time of ``fn`` over ``repeats`` calls after ``warmup`` untimed ones, times
        ``scale`` (e.g. ``1000 / n_clips`` for ms per clip)."""
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        for _ in range(warmup):
            fn()
        return Stats([timed(fn) * scale for _ in range(repeats)], unit=unit)

    def compare(self, name: str, figure: Stats, baseline: Optional[Stats] = None, *,
                baseline_name: str = "", ratio: str = "speedup",
                target: Optional[str] = None, details: Optional[dict] = None) -> dict:
        """Record ``figure`` against ``baseline`` (measured in this run).

        ``ratio`` is one of ``RATIO_KINDS``. ``target`` is a condition on the ratio such as
        ``">= 2"`` or ``"<= 1.1"``, or on the figure itself with a unit, such as ``"<= 25 ms"``
        (``met`` compares the medians). ``details`` holds any further figures (counts, sizes).
        """
        if ratio not in RATIO_KINDS:
            raise ValueError(f"ratio must be one of {RATIO_KINDS}, got {ratio!r}")
        entry = figure.as_json(name)
        entry["baseline"] = baseline.as_json(baseline_name or "baseline") if baseline else None
        entry["ratio_kind"] = ratio if baseline else None
        value = None
        if baseline is not None:
            if baseline.median == 0 or figure.median == 0:
                raise ValueError(f"{name}: a zero median cannot make a ratio "
                                 f"(figure {figure.median}, baseline {baseline.median})")
            value = (baseline.median / figure.median if ratio == "speedup"
                     else figure.median / baseline.median)
        entry["ratio"] = value
        entry["target"] = None
        entry["met"] = None
        if target:
            entry["target"], entry["met"] = _parse_target(target, entry)
        entry["details"] = details or {}
        self.measurements.append(entry)
        return entry

    def figure(self, name: str, values: Sequence[float], *, unit: str, **kwargs) -> dict:
        """Record a figure measured without a baseline of its own (a count, a size), or pass
        ``baseline=Stats(...)`` and the rest of :meth:`compare`'s keywords."""
        baseline = kwargs.pop("baseline", None)
        return self.compare(name, Stats(list(values), unit=unit), baseline, **kwargs)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def skip(self, reason: str) -> None:
        """Mark the benchmark skipped (missing data, an optional package) and print why."""
        self.status, self.reason = "skipped", reason
        print(f"skipped: {self.name}: {reason}")

    def as_json(self) -> dict:
        load_after = load_average()
        # Other load: the machine's busy CPU time during the run less this benchmark's own (its
        # threads and children). The load average cannot tell: it counts the benchmark itself,
        # and the one before it in a run.py run for a minute after.
        wall = max(time.perf_counter() - self._started, 1e-9)
        busy_after = busy_cpu_s()
        other_cores = None
        if busy_after is not None and self._busy_before is not None:
            other = (busy_after - self._busy_before) - (own_cpu_s() - self._own_before)
            other_cores = round(max(other, 0.0) / wall, 3)
            busy = other_cores > OTHER_LOAD_CORES
        else:  # no /proc/stat: fall back on the load average
            busy = max(self._load_before[:1] + load_after[:1] or [0.0]) > 0.5 * (os.cpu_count() or 1)
        return {"schema": SCHEMA_ID, "name": self.name, "title": self.title,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "quick": self.quick, "command": self.command, "machine": machine(),
                "load": {"before": self._load_before, "after": load_after,
                         "other_cores": other_cores, "other_load_present": bool(busy)},
                "duration_s": round(time.perf_counter() - self._started, 2),
                "status": self.status, "reason": self.reason, "notes": self.notes,
                "measurements": self.measurements}

    def write(self) -> Path:
        """Write ``out`` (default ``benchmarks/results/NAME.json``) and print where."""
        path = self.out or RESULTS / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        print(f"wrote {path}")
        return path


def _parse_target(text: str, entry: dict):
    parts = text.split()
    if len(parts) not in (2, 3) or parts[0] not in TARGET_OPS:
        raise ValueError(f"target must read like '>= 2' or '<= 25 ms', got {text!r}")
    op, bound = parts[0], float(parts[1])
    if len(parts) == 3:  # on the figure itself, in its unit
        if parts[2] != entry["unit"]:
            raise ValueError(f"target {text!r} has unit {parts[2]!r}, the figure is in {entry['unit']!r}")
        on, value = "median", entry["median"]
    else:
        if entry["ratio"] is None:
            raise ValueError(f"target {text!r} is on the ratio, but {entry['name']!r} has no baseline")
        on, value = "ratio", entry["ratio"]
    return {"on": on, "op": op, "value": bound, "text": text}, bool(TARGET_OPS[op](value, bound))


def add_common_args(parser: argparse.ArgumentParser, *, data: bool = True) -> None:
    """``--quick`` and ``--json`` (and ``--data``): the flags ``benchmarks/run.py`` passes."""
    parser.add_argument("--quick", action="store_true",
                        help="tiny inputs and few repeats: a smoke run, not comparable figures")
    parser.add_argument("--json", default=None,
                        help="where to write the result (default: benchmarks/results/NAME.json)")
    if data:
        parser.add_argument("--data", default=f"ravdess={DEFAULT_DATA}",
                            help="real RAVDESS at 16 kHz (ravdess=PATH); absent: the benchmark "
                                 "uses synthetic audio where it can, else skips")
