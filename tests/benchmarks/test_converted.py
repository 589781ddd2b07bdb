"""The converted benchmarks' pure parts: how they record figures for the harness, their skips, and
their flags; the benchmarks themselves run by hand or through ``benchmarks/run.py``."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks.fixtures import compare_scores  # noqa: E402
from benchmarks.harness import Bench  # noqa: E402


def load(script: str):
    spec = importlib.util.spec_from_file_location(script, ROOT / "benchmarks" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def valid(result: dict) -> dict:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(result, json.loads((ROOT / "benchmarks" / "schema.json").read_text()))
    return result


def test_compare_scores_gives_a_ratio_and_keeps_a_zero_median_without_one():
    bench = Bench(name="study", title="a study")
    compare_scores(bench, "UA per fold", [0.5, 0.7], [0.4], baseline_name="floor")
    compare_scores(bench, "UA, noisy", [0.0], [0.4], baseline_name="clean")
    first, second = bench.measurements
    assert first["ratio_kind"] == "relative" and first["ratio"] == pytest.approx(0.6 / 0.4)
    assert second["baseline"] is None and second["details"]["baseline"]["median"] == 0.4
    assert any("median of 0" in note for note in bench.notes)
    valid(bench.as_json())


def test_export_records_size_and_latency_of_each_format_against_keras():
    export = load("bench_export")
    bench = Bench(name="export", title="exports")
    agree = {"max_abs_diff": 1e-8, "label_agreement": 1.0}
    row = {"model": "m", "quantize": "none", "window_s": 3.0, "keras_weights_mb": 1.0, "keras_ms": [4.0, 6.0],
           "converts": True, "tflite_mb": 1.1, "tflite_ms": [2.0, 2.0], "tflite": agree,
           "savedmodel_mb": 1.5, "savedmodel_ms": [5.0, 5.0], "savedmodel": agree}
    failed = {"model": "big", "quantize": "int8", "window_s": 3.0, "keras_weights_mb": 2.0, "keras_ms": [1.0],
              "converts": False, "error": "no builtin op"}
    export.record(bench, [row, failed])
    by_name = {m["name"]: m for m in bench.measurements}
    assert by_name["TFLite latency per window, m"]["ratio"] == pytest.approx(2.5)  # speedup over Keras
    assert by_name["SavedModel size, m"]["ratio"] == pytest.approx(1.5)  # relative to the weights
    assert len(bench.measurements) == 4 and "no builtin op" in bench.notes[0]
    assert "TFLite: no" in export.table([row, failed])
    valid(bench.as_json())


def test_ensemble_folds_without_runs_records_a_skip(tmp_path):
    out = tmp_path / "ensemble_folds.json"
    assert load("ensemble_folds").main(["--json", str(out), "--data", "ravdess=/absent"]) == 0
    result = valid(json.loads(out.read_text()))
    assert result["status"] == "skipped" and "--runs" in result["reason"]


def test_hubert_pretrain_takes_the_runners_data_spec_or_a_bare_folder(tmp_path):
    hubert = load("bench_hubert_pretrain")
    assert hubert.data_folder(f"ravdess={tmp_path}") == tmp_path == hubert.data_folder(str(tmp_path))
    with pytest.raises(Exception, match="tess=/x"):
        hubert.data_folder("tess=/x")
    out = tmp_path / "hubert_pretrain.json"
    assert hubert.main(["--data", f"ravdess={tmp_path / 'absent'}", "--json", str(out)]) == 0
    assert valid(json.loads(out.read_text()))["status"] == "skipped"
