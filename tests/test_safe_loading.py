"""Model files are read without unpickling arbitrary objects and without running code.

Each format ser_tf reads (HF ``pytorch_model.bin`` and ``model.safetensors``, CTranslate2
``model.bin``, TFLite) is handed a real pickle whose ``__reduce__`` would create a marker file on
loading. A control loads the same kind of payload the unsafe way and shows the marker appears, so
"no marker" means the payload was refused, not that it was harmless. The ``.keras`` side (a
``Lambda`` layer is refused) is tested in ``tests/inference/test_loading.py``. A source scan checks
that every ``np.load`` passes ``allow_pickle=False`` and every ``torch.load`` ``weights_only=True``.
"""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest

from ser_tf.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


class _RunsCode:
    """Unpickling this object calls ``open(marker, "w")``: a stand-in for any code an attacker runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _payload(marker) -> bytes:
    return pickle.dumps({"encoder.weight": _RunsCode(marker)})


def test_the_payload_runs_code_when_unpickled_the_unsafe_way(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(_payload(marker))["encoder.weight"].close()  # the control: plain pickle runs it
    assert marker.exists()


# The legacy payload is written with Python's pickle protocol, which torch notes before refusing it.
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pytorch_model_bin_with_code_is_refused_and_never_run(tmp_path):
    torch = pytest.importorskip("torch")
    from ser_tf.models.hf_checkpoint import read_hf_state_dict

    control, marker = tmp_path / "control", tmp_path / "ran"
    torch.save({"w": _RunsCode(control)}, tmp_path / "control.bin")
    torch.load(tmp_path / "control.bin", weights_only=False)["w"].close()  # what weights_only=True prevents
    assert control.exists()
    for name, write in (("zip", lambda p: torch.save({"w": _RunsCode(marker)}, p)),
                        ("legacy", lambda p: p.write_bytes(_payload(marker)))):
        folder = tmp_path / name
        folder.mkdir()
        write(folder / "pytorch_model.bin")
        with pytest.raises(ModelError, match="pytorch_model.bin' was refused"):
            read_hf_state_dict(folder)
        assert not marker.exists(), name
    # A plain state dict still reads.
    good = tmp_path / "good"
    good.mkdir()
    torch.save({"w": torch.ones(2, 3)}, good / "pytorch_model.bin")
    assert read_hf_state_dict(good)["w"].shape == (2, 3)


def test_safetensors_ct2_and_tflite_files_holding_a_pickle_are_refused(tmp_path):
    from ser_tf.inference.backends import TFLiteBackend
    from ser_tf.models.hf_checkpoint import read_safetensors
    from ser_tf.models.whisper.ct2_checkpoint import CT2Model

    marker = tmp_path / "ran"
    (tmp_path / "model.safetensors").write_bytes(_payload(marker))
    with pytest.raises(ModelError, match="model.safetensors' is not a safetensors file"):
        read_safetensors(tmp_path / "model.safetensors")
    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    (ct2 / "model.bin").write_bytes(_payload(marker))
    (ct2 / "config.json").write_text(json.dumps({}))
    with pytest.raises(ModelError, match="model.bin"):
        CT2Model(ct2)
    (tmp_path / "model.tflite").write_bytes(_payload(marker))
    with pytest.raises(ModelError, match="not a TFLite flatbuffer"):
        TFLiteBackend(tmp_path / "model.tflite")
    assert not marker.exists()


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            owner = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
            yield owner, node.func.attr, {k.arg: k.value for k in node.keywords}


def test_the_source_never_unpickles():
    """Every ``np.load`` passes ``allow_pickle=False``, every ``torch.load`` ``weights_only=True``,
    and no module imports a pickle-based loader."""
    files = sorted((ROOT / "ser_tf").rglob("*.py"))
    loads, bad = 0, []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        for owner, name, keywords in _calls(tree):
            required = {("np", "load"): "allow_pickle", ("numpy", "load"): "allow_pickle",
                        ("torch", "load"): "weights_only"}.get((owner, name))
            if required is None:
                continue
            loads += 1
            value = keywords.get(required)
            wanted = required == "weights_only"  # True for torch, False for numpy
            if not (isinstance(value, ast.Constant) and value.value is wanted):
                bad.append(f"{where}: {owner}.{name} without {required}={wanted}")
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{where}: imports {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
    assert loads >= 3, "the scan found no np.load/torch.load calls: it is not reading the source"
    assert not bad, bad
