"""What a timeline adds up to: who owns each moment, each emotion's share of voiced time, the
waveform envelope to draw, and one colour per label.

The one owner of these summaries: the ``--plot`` figure, the web page (``ser_tf.app``) and the
reports (``ser_tf.report``) all read them from here, so the same recording shows the same shares
and colours everywhere. NumPy only; no TensorFlow, no matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ser_tf.inference.results import SILENCE, LongPrediction, Prediction

# Envelope resolution: columns across a figure or the page's canvas.
ENVELOPE_BINS = 2000
# matplotlib's "tab10" (the default colour cycle) as hex, so the page and the figures agree without
# importing matplotlib; the i-th class takes the i-th colour. tab10's grey (#7f7f7f, the 8th: RAVDESS's
# "surprised") is swapped for indigo, or that emotion would look like silence on a timeline.
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
         "#8c564b", "#e377c2", "#393b79", "#bcbd22", "#17becf")
SILENCE_COLOUR = "#bbbbbb"


def label_colours(classes: Sequence[str]) -> Dict[str, str]:
    """``{label: "#rrggbb"}`` for every class (by index, cycling after 10) and ``"silence"``."""
    colours = {c: TAB10[i % len(TAB10)] for i, c in enumerate(classes)}
    colours[SILENCE] = SILENCE_COLOUR
    return colours


def owned_bounds(windows: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """``(start, end)`` of the time each window owns, for ``(start, end)`` windows in time order.

    Windows overlap when the hop is shorter than the window; each then owns the time nearest its
    centre, the first from its start and the last to its end, so the bounds tile the timeline.
    """
    centres = [(a + b) / 2 for a, b in windows]
    last = len(windows) - 1
    return [(windows[0][0] if i == 0 else (centres[i - 1] + centres[i]) / 2,
             windows[-1][1] if i == last else (centres[i] + centres[i + 1]) / 2)
            for i in range(len(windows))]


def owned_spans(long: Optional[LongPrediction], prediction: Prediction, duration: float
                ) -> List[Tuple[float, float, str]]:
    """Non-overlapping ``(start, end, label)`` spans, in seconds, covering the timeline
    (``owned_bounds`` of its windows). A clip classified in one pass (``long`` is ``None``) is one
    span of its label."""
    if long is None:
        return [(0.0, float(duration), prediction.label)]
    windows = sorted(long.timeline, key=lambda w: w.start)
    bounds = owned_bounds([(w.start, w.end) for w in windows])
    return [(a, b, w.label) for (a, b), w in zip(bounds, windows)]


def voiced_shares(spans: Sequence[Tuple[float, float, str]], classes: Sequence[str]
                  ) -> Tuple[Dict[str, float], float, float]:
    """``(shares, silence_share, voiced_seconds)`` of ``owned_spans``.

    Returns:
        shares: ``{class: fraction of voiced time}`` for every class, summing to 1; all zeros when
            nothing is voiced.
        silence_share: fraction of the whole spanned time that is silence, in [0, 1].
        voiced_seconds: seconds of voiced time.
    """
    seconds = {c: 0.0 for c in classes}
    silent = 0.0
    for a, b, label in spans:
        if label == SILENCE:
            silent += b - a
        else:
            seconds[label] = seconds.get(label, 0.0) + (b - a)
    voiced = sum(seconds.values())
    total = voiced + silent
    shares = {c: (s / voiced if voiced > 0 else 0.0) for c, s in seconds.items()}
    return shares, (silent / total if total > 0 else 0.0), voiced


def envelope(audio: Union[str, Path, np.ndarray], *, sample_rate: int, bins: int = ENVELOPE_BINS
             ) -> Tuple[np.ndarray, np.ndarray, float]:
    """``(mins, maxs, duration)``: the waveform's min and max over ``bins`` equal time bins.

    Args:
        audio: a file (read block by block, so an hour-long file stays in bounded memory) or a
            mono waveform float32 ``(samples,)`` at ``sample_rate``.
        sample_rate: Hz; a file is resampled to it.
        bins: at most this many bins (fewer for audio shorter than ``bins`` samples).

    Returns:
        float32 ``(n,)`` arrays in [-1, 1] and the duration in seconds.
    """
    from ser_tf.data.audio_io import iter_blocks, probe_audio

    if isinstance(audio, np.ndarray):
        total = len(audio)
        blocks = [(0.0, audio)]
    else:
        info = probe_audio(audio)
        total = -(-info.frames * sample_rate // info.sample_rate)
        blocks = iter_blocks(audio, block_seconds=30.0, sample_rate=sample_rate)
    n = max(1, min(int(bins), total))
    mins, maxs = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for start_s, block in blocks:
        first = int(round(start_s * sample_rate))
        idx = np.minimum((np.arange(first, first + len(block)) * n) // max(total, 1), n - 1)
        np.minimum.at(mins, idx, block)
        np.maximum.at(maxs, idx, block)
    return mins, maxs, total / sample_rate
