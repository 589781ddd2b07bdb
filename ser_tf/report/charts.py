"""The reports' charts as PNG bytes, drawn by matplotlib's Agg renderer (no display needed).

matplotlib is imported inside the functions, so importing ``ser_tf.report`` stays cheap, and
pyplot is not used at all (see ``_figure``). Sizes are
fixed in inches at ``DPI`` (a chart is the same number of pixels every time), and the colours are
those of ``ser_tf.inference.summary`` (``label_colours``): tab10 by class index, silence light grey.
"""

from __future__ import annotations

import io
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ser_tf.data.labels import CANONICAL_EMOTIONS
from ser_tf.inference.results import SILENCE
from ser_tf.inference.summary import label_colours, owned_bounds

DPI = 100
_UNKNOWN_COLOUR = "#666666"  # a label outside the classes given (should not happen; never crash on it)
_WIDTH = 10.0  # inches; 1000 px at DPI


def emotion_order(names) -> List[str]:
    """``names`` (without silence), in canonical class order first, then any others alphabetically,
    so that a period's charts list the emotions in the same order as the models do."""
    names = {n for n in names if n != SILENCE}
    known = [e for e in CANONICAL_EMOTIONS if e in names]
    return known + sorted(names - set(known))


def stable_colours(emotions: Sequence[str]) -> Dict[str, str]:
    """Label -> colour by canonical class index (the palette holds all ten canonical emotions), so that
    an emotion keeps its colour from one period's report to the next whatever else was heard."""
    return label_colours([*CANONICAL_EMOTIONS, *(e for e in emotions if e not in CANONICAL_EMOTIONS)])


def _figure(*, height: float, width: float = _WIDTH):
    """A new figure of ``width`` x ``height`` inches, outside pyplot.

    The app builds reports in worker threads; pyplot's global figure registry is not thread-safe,
    while a bare ``Figure`` (matplotlib's advice for web servers) shares nothing and needs no
    backend nor closing.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(fig) -> bytes:
    """The figure as PNG bytes (rendered by Agg, the default for PNG)."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _segments(windows: Sequence[Mapping]) -> List[Tuple[float, float, str]]:
    """Non-overlapping ``(start, end, label)`` spans (s) of window dicts: each window owns the time
    nearest its centre (``ser_tf.inference.summary.owned_bounds``)."""
    windows = sorted(windows, key=lambda w: w["start"])
    bounds = owned_bounds([(w["start"], w["end"]) for w in windows])
    return [(a, b, w["label"]) for (a, b), w in zip(bounds, windows)]


def _merged(spans: Sequence[Tuple[float, float, str]]) -> List[Tuple[float, float, str]]:
    """Neighbouring spans of one label as one span: an hour's thousands of windows draw as the
    few dozen bands a reader sees, not thousands of patches."""
    merged: List[Tuple[float, float, str]] = []
    for a, b, label in spans:
        if merged and merged[-1][2] == label and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b, label)
        else:
            merged.append((a, b, label))
    return merged


def timeline_chart(*, envelope: Optional[Mapping], windows: Sequence[Mapping], classes: Sequence[str],
                   duration: float) -> bytes:
    """The recording over time: the waveform envelope on bands coloured by each window's label,
    and under it one probability line per emotion.

    Args:
        envelope: ``{"mins": [float], "maxs": [float], "duration": s}`` (amplitude in [-1, 1]),
            or ``None``/empty for no waveform (the bands are still drawn).
        windows: the contract's timeline dicts (``start``/``end`` in s, ``label``, ``probabilities``
            or ``None`` for silence, which leaves a gap in the lines).
        classes: the model's classes, fixing each emotion's colour and the lines drawn.
        duration: the recording's length (s), the x range.
    """
    from matplotlib.patches import Patch

    palette = label_colours(classes)
    duration = max(float(duration), 1e-3)
    fig = _figure(height=6.0)
    ax_wave, ax_prob = fig.subplots(2, 1, sharex=True)
    spans = _merged(_segments(windows))
    for a, b, label in spans:
        ax_wave.axvspan(a, b, color=palette.get(label, _UNKNOWN_COLOUR), alpha=0.35, linewidth=0)
    mins = np.asarray((envelope or {}).get("mins") or [], dtype=float)
    maxs = np.asarray((envelope or {}).get("maxs") or [], dtype=float)
    if len(mins) and len(mins) == len(maxs):
        t = np.linspace(0.0, float(envelope.get("duration") or duration), len(mins))
        ax_wave.fill_between(t, mins, maxs, color="black", linewidth=0.5)
        ax_wave.set_ylim(-1.05 * max(np.abs(mins).max(), np.abs(maxs).max(), 1e-3),
                         1.05 * max(np.abs(mins).max(), np.abs(maxs).max(), 1e-3))
    ax_wave.set_yticks([])
    ax_wave.set_ylabel("waveform")
    shown = [c for c in [*classes, SILENCE] if any(label == c for _, _, label in spans)]
    if shown:
        ax_wave.legend(handles=[Patch(color=palette[c], alpha=0.5, label=c) for c in shown],
                       loc="upper right", fontsize="small", ncol=min(len(shown), 5), framealpha=0.9)
    ax_wave.set_title("label of each window (colour) over the waveform")

    ordered = sorted(windows, key=lambda w: w["start"])
    centres = np.array([(w["start"] + w["end"]) / 2 for w in ordered], dtype=float)
    for c in classes:
        # NaN for silent windows: the line breaks where nothing was said.
        p = np.array([np.nan if not w.get("probabilities") else w["probabilities"].get(c, np.nan)
                      for w in ordered], dtype=float)
        if len(p) and not np.all(np.isnan(p)):
            ax_prob.plot(centres, p, color=palette[c], label=c, linewidth=1.6,
                         marker="o" if len(p) <= 30 else None, markersize=3)
    ax_prob.set_ylim(0.0, 1.0)
    ax_prob.set_xlim(0.0, duration)
    ax_prob.set_ylabel("probability")
    ax_prob.set_xlabel("time (s)")
    ax_prob.grid(alpha=0.3)
    if ax_prob.get_legend_handles_labels()[0]:
        ax_prob.legend(loc="upper right", fontsize="small", ncol=min(len(classes), 5), framealpha=0.9)
    return _png(fig)


def bar_chart(*, values: Mapping[str, float], palette: Mapping[str, str], xlabel: str,
              percent: bool) -> bytes:
    """Horizontal bars, one per key of ``values`` in its order, each with its value written beside it.

    Args:
        values: label -> value (a share in [0, 1] when ``percent``, else a count).
        palette: label -> colour.
        percent: write values as percentages and fix the axis to 0-100 %.
    """
    labels = list(values)
    numbers = [float(values[k]) * (100.0 if percent else 1.0) for k in labels]
    fig = _figure(width=8.0, height=1.2 + 0.4 * max(len(labels), 1))
    ax = fig.subplots()
    ax.barh(labels, numbers, color=[palette.get(k, _UNKNOWN_COLOUR) for k in labels])
    ax.invert_yaxis()
    top = 100.0 if percent else max(numbers + [1.0]) * 1.15
    ax.set_xlim(0.0, top)
    ax.set_xlabel(xlabel)
    for y, v in enumerate(numbers):
        ax.text(v + top * 0.01, y, f"{v:.1f} %" if percent else f"{v:g}", va="center", fontsize="small")
    if not percent:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(fig)


def daily_shares_chart(*, days: Sequence[str], shares: Sequence[Mapping[str, float]],
                       emotions: Sequence[str], palette: Mapping[str, str]) -> bytes:
    """Stacked bars: each day's share of voiced time per emotion (a day without speech is empty).

    Args:
        days: the bars' labels, one per day (e.g. ``"Mon 23 Nov"``).
        shares: per day, emotion -> share of that day's voiced time (sums to 1, or ``{}``).
        emotions: stacking order, bottom first.
    """
    fig = _figure(height=4.5)
    ax = fig.subplots()
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for e in emotions:
        heights = np.array([100.0 * float(s.get(e, 0.0)) for s in shares])
        ax.bar(x, heights, bottom=bottom, color=palette.get(e, _UNKNOWN_COLOUR), label=e, width=0.7)
        bottom += heights
    for i, s in enumerate(shares):
        if not s:
            ax.text(i, 50, "no speech", ha="center", va="center", rotation=90, color="#888888")
    ax.set_xticks(x, list(days))
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.set_ylim(0.0, 100.0)
    ax.set_ylabel("share of voiced time (%)")
    if emotions:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return _png(fig)
