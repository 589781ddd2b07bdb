"""The fuzz properties of ``tests/fuzz`` by the ten thousand, with fresh random draws each run.

    python benchmarks/fuzz.py                     # 20,000 examples over the 14 properties
    python benchmarks/fuzz.py --examples 50000 --only decode_file load_audio
    python benchmarks/fuzz.py --quick             # 140 examples: a smoke run, under a minute

Same properties as the CI tests (``tests/fuzz/properties.py``, ``tests/fuzz/cli_properties.py``):
a case passes when it gives a finite output of the documented shape or ser_tf's own error. Writes
``benchmarks/results/fuzz/fuzz.json`` (``quick/fuzz.json`` for ``--quick``): per property the
examples run, the seconds, how each entry ended (outputs, and refusals by error class), and every
failure with its shrunk example. Exit status 1 when any property failed.

Not a ``benchmarks/run.py`` entry: the harness records timed figures against a baseline of the same
run (``benchmarks/harness.py``), and a fuzz run has no baseline, only counts and failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.fuzz import properties  # noqa: E402
from tests.fuzz.cli_properties import CLI_PROPERTIES  # noqa: E402

ALL = {**properties.PROPERTIES, **CLI_PROPERTIES}
RESULTS = ROOT / "benchmarks" / "results"


def _failure(err: BaseException) -> list:
    """Each distinct failure hypothesis found: the exception line, where it was raised in ser_tf,
    and the shrunk example (hypothesis's notes)."""
    found = err.exceptions if isinstance(err, BaseExceptionGroup) else [err]
    out = []
    for one in found:
        frames = [f for f in traceback.extract_tb(one.__traceback__) if "/ser_tf/" in f.filename]
        out.append({"error": f"{type(one).__name__}: {str(one)[:300]}",
                    "where": f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None,
                    "example": "\n".join(getattr(one, "__notes__", []))[:2000]})
    return out


def run(name: str, examples: int) -> dict:
    strategy, check = ALL[name]
    calls = [0]

    def counted(case):
        calls[0] += 1
        check(case)

    before = dict(properties.OUTCOMES)
    start = time.perf_counter()
    test = settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))(given(strategy)(counted))
    try:
        test()
        failures = []
    except Exception as err:  # noqa: BLE001 -- the point is to record whatever escaped
        failures = _failure(err)
    outcomes = {f"{fn}: {how}": n - before.get((fn, how), 0)
                for (fn, how), n in properties.OUTCOMES.items() if n != before.get((fn, how), 0)}
    return {"examples_requested": examples, "cases_run": calls[0],
            "seconds": round(time.perf_counter() - start, 1), "outcomes": outcomes, "failures": failures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="examples in all, shared evenly")
    parser.add_argument("--quick", action="store_true", help="10 examples per property")
    parser.add_argument("--only", nargs="+", choices=sorted(ALL), default=None, help="these properties")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples must be >= 1, got {args.examples}")
    names = args.only or sorted(ALL)
    per = 10 if args.quick else max(1, args.examples // len(names))
    path = args.json or RESULTS / ("quick" if args.quick else "fuzz") / "fuzz.json"
    results = {}
    for name in names:
        results[name] = run(name, per)
        r = results[name]
        print(f"{name:16s} {r['cases_run']:6d} cases {r['seconds']:7.1f} s  "
              f"{len(r['failures'])} failure(s)", flush=True)
        for f in r["failures"]:
            print(f"    {f['error']}\n    at {f['where']}\n" + "\n".join("      " + line for line in f["example"].splitlines()))
    summary = {"properties": len(names), "cases_run": sum(r["cases_run"] for r in results.values()),
               "failures": sum(len(r["failures"]) for r in results.values()),
               "seconds": round(sum(r["seconds"] for r in results.values()), 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"summary": summary, "results": results}, indent=1) + "\n", encoding="utf-8")
    print(f"{summary['cases_run']} cases, {summary['failures']} failure(s), {summary['seconds']} s -> {path}")
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
