"""Run ser_tf's benchmarks, one fresh process each, then print one table from their JSON files.

    python benchmarks/run.py                      # every speed benchmark, full size (tens of minutes)
    python benchmarks/run.py --quick              # tiny inputs: a smoke run of everything, < 2 min
    python benchmarks/run.py --only features whisper_encoder
    python benchmarks/run.py --table              # print the table of benchmarks/results, run nothing
    python benchmarks/run.py --readme             # write that table into README.md's Performance section

Each benchmark writes ``NAME.json`` (contract: ``benchmarks/schema.json``) to ``--out``: by default
``benchmarks/results/`` for full runs, whose files are committed and generate the README's
Performance section, and ``benchmarks/results/quick/`` (ignored by git) for ``--quick``. Studies
(accuracy experiments that take hours, or need a trained run) run only when named in ``--only``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import report  # noqa: E402
from benchmarks.harness import RESULTS, Bench  # noqa: E402


@dataclass(frozen=True)
class Entry:
    name: str
    script: str
    what: str
    study: bool = False


REGISTRY = (
    Entry("features", "bench_features.py",
          "first pass of decode + resample + crop + log-mel, 16 and 48 kHz, and from the cache, "
          "against the librosa loop"),
    Entry("input_bound", "bench_input_bound.py",
          "training epoch from train.py's pipeline against the same model fed from memory, every --arch"),
    Entry("train_memory", "bench_train_memory.py",
          "train.py on the demo corpus: peak RSS, system-time share and page faults (time -v)"),
    Entry("scaling", "bench_scaling.py", "epoch time and peak RSS at 1k, 5k and 10k synthetic clips"),
    Entry("whisper_encoder", "bench_whisper_encoder.py",
          "Whisper tiny.en encoder features/s, Keras port against CTranslate2; cached epochs"),
    Entry("inference", "bench_inference.py",
          "cold start, warm latency, stream RTF and the 10 min recording, CNN-RNN and the default model"),
    Entry("export", "bench_export.py", "TFLite and SavedModel size and latency against Keras"),
    Entry("app", "bench_app.py", "the web page: upload, live-stream latency, concurrency"),
    Entry("shards", "bench_shards.py", "TFRecord shards against files: peak RSS and throughput"),
    Entry("whisper_probe", "whisper_probe.py", "frozen Whisper + logistic regression, 6 folds", study=True),
    Entry("noise_robustness", "noise_robustness.py", "a trained model under white and babble noise",
          study=True),
    Entry("ensemble_folds", "ensemble_folds.py", "k-fold runs averaged fold by fold", study=True),
    Entry("hubert_pretrain", "bench_hubert_pretrain.py", "HuBERT pretraining against scratch",
          study=True),
)
BY_NAME = {entry.name: entry for entry in REGISTRY}


def select(only: List[str]) -> List[Entry]:
    if not only:
        return [entry for entry in REGISTRY if not entry.study]
    unknown = [name for name in only if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; "
                         f"known: {', '.join(BY_NAME)}")
    return [BY_NAME[name] for name in only]


def run_one(entry: Entry, *, out: Path, quick: bool, data: str, timeout: float) -> Path:
    """Run one benchmark script in a fresh process; a crash or a timeout is recorded as a
    ``failed`` result, so the table shows it and the next benchmark still runs."""
    path = out / f"{entry.name}.json"
    path.unlink(missing_ok=True)
    cmd = [sys.executable, str(ROOT / "benchmarks" / entry.script), "--json", str(path), "--data", data]
    if quick:
        cmd.append("--quick")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    log = out / "logs" / f"{entry.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    print(f"[{entry.name}] {entry.what}", flush=True)
    with open(log, "w", encoding="utf-8") as sink:
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=timeout)
            reason = None if proc.returncode == 0 else f"exit code {proc.returncode}"
        except subprocess.TimeoutExpired:
            reason = f"ran past the {timeout:.0f} s limit"
    if reason is None and not path.is_file():
        reason = "the script exited 0 without writing its JSON"
    if reason is not None:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        failed = Bench(name=entry.name, title=entry.what, quick=quick, out=path,
                       command=" ".join(cmd))
        failed.status, failed.reason = "failed", f"{reason}; log {log}:\n{tail}"
        failed.write()
    print(f"[{entry.name}] {time.perf_counter() - start:.1f} s, "
          f"{json.loads(path.read_text())['status']}", flush=True)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny inputs, a smoke run (< 2 min)")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help=f"run these only (studies run only when named): {', '.join(BY_NAME)}")
    parser.add_argument("--out", default=None,
                        help="results folder (default: benchmarks/results, or "
                             "benchmarks/results/quick with --quick)")
    parser.add_argument("--data", default=f"ravdess={ROOT.parent / 'shared' / 'data' / 'ravdess-speech-16k'}",
                        help="real RAVDESS at 16 kHz; benchmarks that need it use synthetic audio "
                             "or skip when it is absent")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    parser.add_argument("--table", action="store_true", help="print the table of --out, run nothing")
    parser.add_argument("--readme", action="store_true",
                        help="write the table of --out into README.md's Performance section, run nothing")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be > 0 seconds, got {args.timeout}")
    out = Path(args.out) if args.out else (RESULTS / "quick" if args.quick else RESULTS)
    entries = select(args.only)

    if args.readme:
        changed = report.update_readme(ROOT / "README.md", report.load_results(RESULTS))
        print("README.md updated" if changed else "README.md already matches benchmarks/results")
        return 0
    if not args.table:
        out.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            run_one(entry, out=out, quick=args.quick, data=args.data, timeout=args.timeout)
    results = report.load_results(out, names=[entry.name for entry in entries])
    print()
    print(report.render(results))
    return 1 if any(result["status"] == "failed" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
