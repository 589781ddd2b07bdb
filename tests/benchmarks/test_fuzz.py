"""benchmarks/fuzz.py: a quick run writes its counts and finds no failure in the current code."""

import json

import pytest

from benchmarks import fuzz


def test_quick_run_writes_counts(tmp_path):
    path = tmp_path / "fuzz.json"
    assert fuzz.main(["--quick", "--only", "fix_length", "data_args", "--json", str(path)]) == 0
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["summary"] == {"properties": 2, "cases_run": 20, "failures": 0,
                                   "seconds": document["summary"]["seconds"]}
    outcomes = document["results"]["fix_length"]["outcomes"]
    assert sum(outcomes.values()) >= 20 and document["results"]["data_args"]["failures"] == []


def test_examples_must_be_positive():
    with pytest.raises(SystemExit) as stop:
        fuzz.main(["--examples", "0"])
    assert stop.value.code == 2
