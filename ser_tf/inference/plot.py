"""``--plot``: the waveform with the emotion timeline coloured by label, and the probability bars.

matplotlib is imported here only, and only when a plot is asked for. The waveform is drawn as a
min/max envelope computed block by block, so plotting an hour-long file stays in bounded memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from ser_tf.inference.results import SILENCE, LongPrediction, Prediction
from ser_tf.utils.io import atomic_path

# Envelope resolution: columns across the figure.
_BINS = 2000
_SILENCE_COLOUR = "#bbbbbb"


def _envelope(audio: Union[str, Path, np.ndarray], *, sample_rate: int) -> Tuple[np.ndarray, np.ndarray, float]:
    """``(mins, maxs, duration)`` of the waveform over ``_BINS`` equal time bins."""
    from ser_tf.data.audio_io import iter_blocks, probe_audio

    if isinstance(audio, np.ndarray):
        total = len(audio)
        blocks = [(0.0, audio)]
    else:
        info = probe_audio(audio)
        total = -(-info.frames * sample_rate // info.sample_rate)
        blocks = iter_blocks(audio, block_seconds=30.0, sample_rate=sample_rate)
    bins = max(1, min(_BINS, total))
    mins, maxs = np.zeros(bins, np.float32), np.zeros(bins, np.float32)
    for start_s, block in blocks:
        first = int(round(start_s * sample_rate))
        idx = (np.arange(first, first + len(block)) * bins) // max(total, 1)
        idx = np.minimum(idx, bins - 1)
        np.minimum.at(mins, idx, block)
        np.maximum.at(maxs, idx, block)
    return mins, maxs, total / sample_rate


def _segments(long: Optional[LongPrediction], pred: Prediction, duration: float) -> List[Tuple[float, float, str]]:
    """Non-overlapping ``(start, end, label)`` spans: each window owns the time nearest its centre."""
    if long is None:
        return [(0.0, duration, pred.label)]
    windows = sorted(long.timeline, key=lambda w: w.start)
    centres = [(w.start + w.end) / 2 for w in windows]
    spans = []
    for i, w in enumerate(windows):
        a = windows[0].start if i == 0 else (centres[i - 1] + centres[i]) / 2
        b = windows[-1].end if i == len(windows) - 1 else (centres[i] + centres[i + 1]) / 2
        spans.append((a, b, w.label))
    return spans


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

    cmap = plt.get_cmap("tab10")
    colours = {c: cmap(i % 10) for i, c in enumerate(classes)}
    colours[SILENCE] = _SILENCE_COLOUR
    mins, maxs, duration = _envelope(audio, sample_rate=sample_rate)
    t = np.linspace(0.0, duration, len(mins))

    fig, (ax_wave, ax_bars) = plt.subplots(2, 1, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 2]})
    for a, b, label in _segments(long, prediction, duration):
        ax_wave.axvspan(a, b, color=colours[label], alpha=0.35, linewidth=0)
    ax_wave.fill_between(t, mins, maxs, color="black", linewidth=0.5)
    ax_wave.set_xlim(0.0, duration)
    ax_wave.set_xlabel("time (s)")
    ax_wave.set_ylabel("amplitude")
    shown = [c for c in [*classes, SILENCE] if any(s[2] == c for s in _segments(long, prediction, duration))]
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
