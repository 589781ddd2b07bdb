"""SavedModel export: loaded by ``tf.saved_model.load`` in a fresh process without ser_tf, its
``serving_default`` signature gives the Keras model's probabilities, the label and the class names."""

import json
import subprocess
import sys

import numpy as np

from ser_tf.export.api import export_model
from tests.inference import support

# Run in a fresh interpreter with only TensorFlow and NumPy: ser_tf must be neither imported nor
# importable (the repository root is not on its path), as on a TF Serving machine.
LOADER = r"""
import json, sys
import numpy as np
import tensorflow as tf
assert "ser_tf" not in sys.modules
try:
    import ser_tf  # noqa: F401
    raise SystemExit("ser_tf is importable in the loader process")
except ImportError:
    pass
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
spec = serve.structured_input_signature[1]["waveform"]
out = serve(waveform=tf.constant(np.load(sys.argv[2])))
print(json.dumps({
    "input": [spec.dtype.name, list(spec.shape)],
    "outputs": sorted(out),
    "probabilities": out["probabilities"].numpy().tolist(),
    "label": [s.decode() for s in out["label"].numpy()],
    "class_names": [s.decode() for s in out["class_names"].numpy()],
}))
"""


def test_savedmodel_serves_without_ser_tf_in_a_fresh_process(export_run, probes, keras_probabilities, tmp_path):
    result = export_model(export_run, format="savedmodel", out=tmp_path / "ser_savedmodel")
    assert (result.path / "saved_model.pb").is_file()
    assert json.loads(result.labels.read_text())["classes"] == list(support.CLASSES)
    np.save(tmp_path / "probes.npy", probes)
    proc = subprocess.run([sys.executable, "-c", LOADER, str(result.path), str(tmp_path / "probes.npy")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240,
                          env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    served = json.loads(proc.stdout.strip().splitlines()[-1])
    assert served["input"] == ["float32", [None, 16000]]  # (batch, samples) at 16 kHz
    assert served["outputs"] == ["class_names", "label", "probabilities"]
    assert served["class_names"] == list(support.CLASSES)
    # Same graph, same kernels: float32 round-off only.
    np.testing.assert_allclose(served["probabilities"], keras_probabilities, atol=1e-5)
    assert served["label"] == [support.CLASSES[i] for i in keras_probabilities.argmax(axis=1)]


def test_savedmodel_refuses_a_folder_in_use(export_run, tmp_path):
    import pytest

    from ser_tf.errors import ExportError

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not an empty folder"):
        export_model(export_run, format="savedmodel", out=tmp_path / "busy")
