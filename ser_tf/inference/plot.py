"""``--plot``: the waveform with the emotion timeline coloured by label, and the probability bars.

matplotlib is imported here only, and only when a plot is asked for. The waveform is drawn as the
min/max envelope of ``ser_tf.inference.summary`` (read block by block, so plotting an hour-long file
stays in bounded memory), under the spans each window owns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ser_tf.inference.results import SILENCE, LongPrediction, Prediction
from ser_tf.inference.summary import envelope, label_colours, owned_spans
from ser_tf.utils.io import atomic_path


def plot_result(out_path, *, audio: Union[str, Path, np.ndarray], sample_rate: int, classes: Sequence[str],
                prediction: Prediction, long: Optional[LongPrediction] = None, title: str = "") -> Path:
    """Save the figure to ``out_path`` (format from the suffix: .png, .pdf, .svg...).

    Args:
        audio: the file classified, or its waveform (float32 ``(samples,)`` at ``sample_rate``).
        sample_rate: Hz.
        classes: class names, fixing each label's colour.
        prediction: the clip's (or the overall) prediction, drawn as bars.
        long: the sliding-window result, drawn as the coloured timeline, if any.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    colours = label_colours(classes)
    mins, maxs, duration = envelope(audio, sample_rate=sample_rate)
    t = np.linspace(0.0, duration, len(mins))

    fig, (ax_wave, ax_bars) = plt.subplots(2, 1, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 2]})
    spans = owned_spans(long, prediction, duration)
    for a, b, label in spans:
        ax_wave.axvspan(a, b, color=colours[label], alpha=0.35, linewidth=0)
    ax_wave.fill_between(t, mins, maxs, color="black", linewidth=0.5)
    ax_wave.set_xlim(0.0, duration)
    ax_wave.set_xlabel("time (s)")
    ax_wave.set_ylabel("amplitude")
    shown = [c for c in [*classes, SILENCE] if any(s[2] == c for s in spans)]
    ax_wave.legend(handles=[Patch(color=colours[c], alpha=0.5, label=c) for c in shown],
                   loc="upper right", fontsize="small", ncol=min(len(shown), 5))
    ax_wave.set_title(title or f"{prediction.label} ({100 * prediction.confidence:.1f}%)")

    probs = [prediction.probabilities[c] for c in classes]
    ax_bars.barh(list(classes), probs, color=[colours[c] for c in classes])
    ax_bars.invert_yaxis()
    ax_bars.set_xlim(0.0, 1.0)
    ax_bars.set_xlabel("probability" + (" (mean over voiced windows)" if long is not None else ""))
    for y, p in enumerate(probs):
        ax_bars.text(min(p + 0.01, 0.9), y, f"{100 * p:.1f}%", va="center", fontsize="small")
    fig.tight_layout()

    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return out_path
