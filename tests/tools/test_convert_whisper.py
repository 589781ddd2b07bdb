"""ser_tf.tools.convert_whisper: the CLI on a tiny random HF Whisper, and save/load of converted weights."""

import numpy as np
import pytest

from ser_tf.errors import ModelError
from ser_tf.models.whisper.backbone import backbone_inputs
from ser_tf.models.whisper.convert import load_checkpoint, load_converted, save_converted, sidecar_config_path
from ser_tf.tools.convert_whisper import main
from tests.models.whisper.conftest import hf_whisper  # noqa: F401 - the session fixture


def test_cli_converts_and_compares(hf_whisper, tmp_path, capsys):
    out = tmp_path / "tiny.weights.h5"
    assert main(["--checkpoint", str(hf_whisper), "--out", str(out), "--preset", "whisper_test_tiny",
                 "--compare", "--seconds", "1"]) == 0
    printed = capsys.readouterr().out
    assert "2 layers, 64 wide, 80 mels" in printed
    lines = [line.split() for line in printed.splitlines() if line.startswith("max |ours")]
    diffs = {words[4].rstrip(":"): float(words[-1]) for words in lines}
    assert diffs["log_mel"] < 1e-4 and diffs["encoder"] < 1e-4, printed
    restored = load_converted(out)
    reference = load_checkpoint(hf_whisper)
    features = np.random.default_rng(0).standard_normal((1, 40, 80)).astype(np.float32)
    np.testing.assert_allclose(restored(backbone_inputs(features))["sequence_output"],
                               reference(backbone_inputs(features))["sequence_output"], atol=1e-6)


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(tmp_path)])  # neither --out nor --compare
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(tmp_path), "--out", "x.h5"])
    assert "must end in .weights.h5, got 'x.h5'" in capsys.readouterr().err
    assert main(["--checkpoint", str(tmp_path / "nowhere"), "--compare"]) == 1
    assert "nowhere" in capsys.readouterr().err


def test_save_and_load_errors(tmp_path, hf_whisper):
    with pytest.raises(ModelError, match=r"must end in '.weights.h5'"):
        save_converted(load_checkpoint(hf_whisper), tmp_path / "x.h5")
    with pytest.raises(ModelError, match="does not exist"):
        load_converted(tmp_path / "y.weights.h5")
    (tmp_path / "z.weights.h5").write_bytes(b"")
    with pytest.raises(ModelError, match=r"z.config.json.*is missing"):
        load_converted(tmp_path / "z.weights.h5")
    assert sidecar_config_path(tmp_path / "z.weights.h5").name == "z.config.json"
