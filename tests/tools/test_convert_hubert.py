"""Tests of ser_tf/tools/convert_hubert.py: the conversion command line and its comparison report."""

import shutil

import pytest

from ser_tf.models.hubert.convert import load_converted
from ser_tf.tools import convert_hubert

MAX_ABS_DIFF = 1e-4


def test_cli_converts_and_compares_with_preprocessing(hf_checkpoints, tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    folder = tmp_path / "large"
    shutil.copytree(hf_checkpoints["hubert_large_style"], folder)
    transformers.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(folder)
    out = tmp_path / "large.weights.h5"
    assert convert_hubert.main(["--checkpoint", str(folder), "--out", str(out), "--compare", "--seconds", "0.5"]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and load_converted(out).normalize_waveform
    diffs = {line.split(":")[0].strip(): line.split(":", 1)[1] for line in printed.splitlines() if ":" in line}
    assert float(diffs["preprocessing"]) < 1e-5
    assert float(diffs["last_hidden_state"]) < MAX_ABS_DIFF
    assert float(diffs["padded_last_hidden_state"]) < MAX_ABS_DIFF
    assert convert_hubert.main(["--checkpoint", str(tmp_path / "missing"), "--out", str(out)]) == 1
