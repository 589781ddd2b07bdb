"""ser_tf.models.whisper.ct2_checkpoint: the NumPy reader of CTranslate2's model.bin, and its errors.

``write_model_bin`` below mirrors ``ctranslate2.specs.model_spec.ModelSpec._serialize``, so the
reader is also tested on hand-made files (other specs, quantisations, truncation) without
ctranslate2; ``test_reads_what_ctranslate2_writes`` checks it on real converter output.
"""

import json
import shutil
import struct

import numpy as np
import pytest

from ser_tf.errors import ModelError
from ser_tf.models.whisper.convert import load_checkpoint
from ser_tf.models.whisper.ct2_checkpoint import CT2Model, read_ct2_model

_TYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}


def write_model_bin(path, variables, aliases=(), *, spec="WhisperSpec", version=6, revision=3):
    """Write ``{name: array}`` (+ ``[(alias, target)]``) in CTranslate2's model.bin layout."""

    def string(text):
        raw = text.encode("utf-8")
        return struct.pack("<H", len(raw) + 1) + raw + b"\0"

    out = struct.pack("<I", version) + string(spec) + struct.pack("<I", revision)
    out += struct.pack("<I", len(variables))
    for name, value in sorted(variables.items()):
        value = np.ascontiguousarray(value)
        out += string(name) + struct.pack("<B", value.ndim)
        out += b"".join(struct.pack("<I", d) for d in value.shape)
        out += struct.pack("<B", _TYPE_IDS[value.dtype.name]) + struct.pack("<I", value.nbytes) + value.tobytes()
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += string(alias) + string(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out)
    (path.parent / "config.json").write_text(json.dumps({"suppress_ids": []}))
    return path.parent


def test_reads_what_ctranslate2_writes(ct2_whisper):
    model = read_ct2_model(ct2_whisper("int8"))
    assert (model.binary_version, model.spec_name) == (6, "WhisperSpec")
    assert model.dtype("encoder/layer_0/self_attention/linear_0/weight") == "int8"
    assert model.raw("encoder/layer_0/self_attention/linear_0/weight_scale").shape == (192,)
    assert int(model.raw("encoder/num_heads")) == 4
    # The fused q/k/v bias holds zeros for the key, as the module docstring says.
    bias = model.float32("encoder/layer_0/self_attention/linear_0/bias")
    assert bias.shape == (192,) and not np.any(bias[64:128])


def test_dequantisation_and_aliases(tmp_path):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((3, 5)).astype(np.float32)
    scale = (127.0 / np.abs(weight).max(axis=1)).astype(np.float32)
    folder = write_model_bin(tmp_path / "m" / "model.bin", {
        "a/weight": np.rint(weight * scale[:, None]).astype(np.int8),
        "a/weight_scale": scale,
        "b/weight": np.rint(weight * 1000).astype(np.int16),
        "b/weight_scale": np.float32(1000.0),
        "c/gamma": weight.astype(np.float16),
    }, aliases=[("d/gamma", "c/gamma")])
    model = CT2Model(folder)
    np.testing.assert_allclose(model.float32("a/weight"), weight, atol=np.abs(weight).max() / 127)
    np.testing.assert_allclose(model.float32("b/weight"), weight, atol=1e-3)
    np.testing.assert_array_equal(model.float32("d/gamma"), weight.astype(np.float16).astype(np.float32))
    assert set(model.names()) == {"a/weight", "a/weight_scale", "b/weight", "b/weight_scale", "c/gamma", "d/gamma"}


def test_missing_files(tmp_path, ct2_whisper):
    folder = tmp_path / "copy"
    shutil.copytree(ct2_whisper("float32"), folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelError, match=r"copy.*missing \['config.json'\]"):
        load_checkpoint(folder)
    (folder / "model.bin").unlink()
    (folder / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"copy.*expected model.bin \+ config.json"):
        load_checkpoint(folder)
    with pytest.raises(ModelError, match=r"copy.*missing \['model.bin'\]"):
        read_ct2_model(folder)


def test_other_spec_is_an_error(tmp_path):
    folder = write_model_bin(tmp_path / "mt" / "model.bin", {"x": np.zeros(2, np.float32)}, spec="TransformerSpec")
    with pytest.raises(ModelError, match=r"mt/model.bin.*'TransformerSpec' model; expected 'WhisperSpec'"):
        load_checkpoint(folder)


def test_truncated_file_is_an_error(tmp_path, ct2_whisper):
    folder = tmp_path / "cut"
    shutil.copytree(ct2_whisper("float16"), folder)
    data = (folder / "model.bin").read_bytes()
    for size in (len(data) // 2, 3, len(data) - 2):
        (folder / "model.bin").write_bytes(data[:size])
        with pytest.raises(ModelError, match=rf"cut/model.bin.* is truncated.*the file has {size} bytes"):
            load_checkpoint(folder)


def test_unsupported_version_and_dtype(tmp_path):
    folder = write_model_bin(tmp_path / "v5" / "model.bin", {"x": np.zeros(2, np.float32)}, version=5)
    with pytest.raises(ModelError, match=r"binary version 5 is not supported \(expected one of \(6,\)\)"):
        CT2Model(folder)
    folder = write_model_bin(tmp_path / "i32" / "model.bin", {
        "w": np.zeros((2, 2), np.int32),
        "q": np.zeros((2, 2), np.int8), "q_scale": np.ones(2, np.float32), "q_zero": np.zeros(2, np.float32),
    })
    model = CT2Model(folder)
    with pytest.raises(ModelError, match=r"'w' is stored as int32 without a 'w_scale'"):
        model.float32("w")
    with pytest.raises(ModelError, match=r"'q' uses a zero-point \(AWQ\) quantisation"):
        model.float32("q")
    data = bytearray((folder / "model.bin").read_bytes())
    position = data.index(b"q\0") + 2 + 1 + 2 * 4  # name, rank, two dims -> the dtype byte
    data[position] = 9
    (folder / "model.bin").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"variable 'q' has unknown dtype id 9"):
        CT2Model(folder)


def test_not_a_whisper_encoder(tmp_path):
    folder = write_model_bin(tmp_path / "w" / "model.bin", {"decoder/x": np.zeros(2, np.float32)})
    with pytest.raises(ModelError, match=r"has no 'encoder/conv1/weight': not a Whisper encoder"):
        load_checkpoint(folder)
