"""Each figure function writes a valid, non-trivial PNG and closes its figure."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.evaluation import figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, *, min_bytes=5000):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(data) > min_bytes, f"{path} is suspiciously small ({len(data)} bytes)"
    image = plt.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 200
    assert image[..., :3].std() > 0.01  # something is drawn, not a blank canvas


def test_confusion_matrices_counts_and_normalised_with_empty_row(tmp_path):
    cm = [[5, 1, 0], [2, 3, 0], [0, 0, 0]]  # third class has no clip: blank row when normalised
    names = ["neutral", "happy", "surprised"]
    before = plt.get_fignums()
    assert_png(figures.plot_confusion_matrix(cm, class_names=names, path=tmp_path / "cm.png"))
    assert_png(figures.plot_confusion_matrix(cm, class_names=names, normalize=True,
                                             path=tmp_path / "cmn.png"))
    assert plt.get_fignums() == before  # figures are closed
    assert not list(tmp_path.glob(".*"))  # no temporary files left
    with pytest.raises(ParameterError, match=r"\(3, 3\)"):
        figures.plot_confusion_matrix([[1, 2]], class_names=names, path=tmp_path / "bad.png")



def test_confusion_matrix_png_is_the_normalised_file_figure_in_memory(tmp_path):
    cm = [[5, 1, 0], [2, 3, 0], [0, 0, 0]]
    names = ["neutral", "happy", "surprised"]
    before = plt.get_fignums()
    png = figures.confusion_matrix_png(cm, class_names=names, title="epoch 3")
    assert plt.get_fignums() == before
    path = figures.plot_confusion_matrix(cm, class_names=names, normalize=True, title="epoch 3",
                                         path=tmp_path / "cmn.png")
    assert png == path.read_bytes()  # one drawing, two destinations
    assert_png(path)
    with pytest.raises(ParameterError, match=r"\(3, 3\)"):
        figures.confusion_matrix_png([[1, 2]], class_names=names)

def test_roc_curves_with_a_one_sided_class(tmp_path, rng):
    y_true = rng.integers(0, 2, size=60)  # class 2 never occurs
    y_prob = rng.dirichlet(np.ones(3), size=60)
    path = figures.plot_roc_curves(y_true, y_prob, class_names=["a", "b", "c"],
                                   path=tmp_path / "roc.png")
    assert_png(path)


def test_training_curves_full_and_loss_only(tmp_path):
    history = {"loss": [1.2, 0.9, 0.8], "val_loss": [1.3, 1.0, 1.1],
               "accuracy": [0.3, 0.5, 0.6], "val_accuracy": [0.25, 0.4, 0.38]}
    assert_png(figures.plot_training_curves(history, path=tmp_path / "tc.png"))
    assert_png(figures.plot_training_curves({"loss": [1.0, 0.5]}, path=tmp_path / "loss.png"))
    with pytest.raises(ParameterError, match="history has none"):
        figures.plot_training_curves({"lr": [0.1]}, path=tmp_path / "bad.png")


def test_fold_metrics(tmp_path):
    rows = [{"fold": i, "accuracy": 0.5 + 0.1 * i, "ua": 0.45 + 0.1 * i, "macro_f1": 0.4}
            for i in range(3)]
    assert_png(figures.plot_fold_metrics(rows, path=tmp_path / "folds.png"))
