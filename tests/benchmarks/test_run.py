"""benchmarks/run.py end to end: ``--quick`` runs every speed benchmark in fresh processes (on
synthetic audio: the tests never need RAVDESS), each writes JSON that validates against
benchmarks/schema.json, and the README's Performance section is exactly what the committed full
results render to. Timings are never asserted."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from benchmarks import report, run
from benchmarks.harness import RESULTS, SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(SCHEMA_PATH.read_text())


def validate(result: dict) -> None:
    jsonschema.validate(result, SCHEMA, format_checker=jsonschema.FormatChecker())


def test_registry_scripts_exist_and_names_are_unique():
    names = [entry.name for entry in run.REGISTRY]
    assert len(names) == len(set(names))
    for entry in run.REGISTRY:
        assert (ROOT / "benchmarks" / entry.script).is_file(), entry.script


def test_unknown_name_is_refused():
    with pytest.raises(SystemExit, match="unknown benchmark.*nope"):
        run.select(["nope"])


def test_quick_run_end_to_end(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--out", str(out), "--data", f"ravdess={tmp_path / 'no-data'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    speed = [entry.name for entry in run.REGISTRY if not entry.study]
    logs = {name: (out / "logs" / f"{name}.log") for name in speed}
    detail = "\n".join(f"--- {n}\n{p.read_text()[-1500:]}" for n, p in logs.items() if p.is_file())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + detail
    for name in speed:
        result = json.loads((out / f"{name}.json").read_text())
        validate(result)
        assert result["name"] == name and result["quick"] is True
        # --quick runs on synthetic audio, so every speed benchmark measures something here
        assert result["status"] == "ok", (name, result["reason"])
        for entry in result["measurements"]:
            if entry["baseline"] is not None:
                assert entry["ratio"] is not None and entry["ratio"] > 0
    table = proc.stdout
    for name in speed:
        assert f"**{name}**" in table


def test_committed_results_validate_and_match_the_readme():
    results = report.load_results(RESULTS)
    for result in results:
        validate(result)
        assert result["quick"] is False, f"{result['name']}: a --quick result was committed"
    expected = f"{report.BEGIN}\n\n{report.render(results)}\n{report.END}"
    assert report.readme_block(ROOT / "README.md") == expected, (
        "README.md's Performance section differs from benchmarks/results: "
        "run `python benchmarks/run.py --readme`")
