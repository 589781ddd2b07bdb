import numpy as np

from ser_tf.inference.plot import plot_result
from tests.inference.test_summary import _long, _pred

CLASSES = ["neutral", "happy", "sad"]


def test_plot_writes_a_png(tmp_path, rng):
    x = (0.3 * rng.standard_normal(16000 * 3)).astype(np.float32)
    out = plot_result(tmp_path / "fig.png", audio=x, sample_rate=16000, classes=CLASSES,
                      prediction=_pred(), long=_long())
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
