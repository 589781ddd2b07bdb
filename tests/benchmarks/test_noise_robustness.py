"""benchmarks/noise_robustness.py: its pure parts (split lookup, noise draws, per-actor limit) and
its skip message; the benchmark itself is run by hand (benchmarks/README.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from ser_tf.data.records import Record

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "noise_robustness.py"
spec = importlib.util.spec_from_file_location("noise_robustness", SCRIPT)
nr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nr)

SPLITS = {
    "fold-1": {"train": ["c:01", "c:02"], "val": ["c:03"], "test": ["c:04"]},
    "fold-2": {"train": ["c:03", "c:04"], "val": ["c:01"], "test": ["c:02"]},
}


def write_run(folder: Path, splits) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump({"seed": 1, "resolved": {"splits": splits}}))
    return folder


def test_find_split_of_a_fold_folder_a_single_split_run_and_a_model_file(tmp_path):
    run = write_run(tmp_path / "kfold", SPLITS)
    (run / "fold-2").mkdir()
    (run / "fold-2" / "model.keras").touch()
    assert nr.find_split(run / "fold-2") == ("fold-2", SPLITS["fold-2"])
    assert nr.find_split(run / "fold-2" / "model.keras")[0] == "fold-2"
    assert nr.find_split(run, "fold-1") == ("fold-1", SPLITS["fold-1"])
    single = write_run(tmp_path / "single", {"speaker": SPLITS["fold-1"]})
    (single / "model.keras").touch()
    assert nr.find_split(single / "model.keras") == ("speaker", SPLITS["fold-1"])


@pytest.mark.parametrize("split, match", [(None, r"2 splits.*--split"), ("fold-9", r"'fold-9' not in")])
def test_find_split_refuses_ambiguity_and_unknown_names(tmp_path, split, match):
    run = write_run(tmp_path / "kfold", SPLITS)
    with pytest.raises(SystemExit, match=match):
        nr.find_split(run, split)
    with pytest.raises(SystemExit, match="no config.yaml"):
        nr.find_split(tmp_path / "elsewhere" / "a" / "model.keras")


def test_noises_are_fixed_per_clip_and_babble_sums_4_to_6_talkers():
    bank = np.zeros((8, 100), np.float32)
    for i in range(8):  # talker i is a constant i + 1: its level-normalised copy is all ones
        bank[i] = i + 1
    a = nr.make_noises(5, 100, bank, seed=3)
    b = nr.make_noises(7, 100, bank, seed=3)  # more clips: the first five rows do not move
    np.testing.assert_array_equal(a["white"], b["white"][:5])
    np.testing.assert_array_equal(a["babble"], b["babble"][:5])
    assert not np.array_equal(a["white"][0], nr.make_noises(1, 100, bank, seed=4)["white"][0])
    talkers = a["babble"][:, 0]
    assert set(np.round(talkers).astype(int)) <= {4, 5, 6}


def test_conditions_and_limit_per_actor():
    assert [c[0] for c in nr.conditions((20.0, 5.0))] == [
        "clean", "white@20", "white@5", "babble@20", "babble@5"]
    records = [Record(path=f"/x/{s}-{i}.wav", emotion="angry", corpus_label="05", speaker=s, corpus="c")
               for s in ("c:01", "c:02") for i in range(5)]
    kept = nr.limit_per_actor(records, 2, seed=0)
    assert len(kept) == 4 and {r.speaker for r in kept} == {"c:01", "c:02"}
    assert kept == nr.limit_per_actor(records, 2, seed=0)
    assert nr.limit_per_actor(records, None, seed=0) == records


def test_skips_without_data(tmp_path, capsys):
    out = tmp_path / "noise_robustness.json"
    assert nr.main(["--model", str(tmp_path), "--data", f"ravdess={tmp_path / 'absent'}", "--json", str(out)]) == 0
    assert "skipped: data folder not found" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["status"] == "skipped" and "data folder not found" in result["reason"]
