"""One recording's report: who, what and how sure, the timeline chart, the shares, the alerts.

Files: ``index.html``, ``timeline.png`` (waveform on label bands, probability lines under it),
``shares.png`` (share of voiced time per emotion), ``windows.csv`` (one row per analysis window)
and ``alerts.csv``.
"""

from __future__ import annotations

from typing import List, Mapping

from ser_tf.errors import ParameterError
from ser_tf.inference.summary import label_colours
from ser_tf.report import charts
from ser_tf.report.alerts import alerts_csv, alerts_table
from ser_tf.report.document import (
    INDEX, Html, Report, csv_bytes, esc, facts, figure, fmt_percent, fmt_seconds, fmt_time, link,
    page, section,
)

# The keys this report reads; a dict without them is not the contract's full recording shape.
_REQUIRED = ("name", "duration", "label", "timeline")
_WINDOW_COLUMNS = ("start", "end", "label", "confidence", "voiced", "level_db")


def recording_report(recording: Mapping) -> Report:
    """The report of one analysed recording.

    Args:
        recording: the contract's full recording dict (``Store.get_recording``): times in s,
            shares and probabilities in [0, 1], ``timeline`` a list of window dicts.

    Raises:
        ParameterError: a key the report needs is missing (named in the message).
    """
    missing = [k for k in _REQUIRED if k not in recording]
    if missing:
        raise ParameterError(f"recording {recording.get('id')!r} lacks {missing}; expected the full "
                             f"shape of Store.get_recording, got keys {sorted(recording)}")
    classes = _classes(recording)
    palette = label_colours(classes)
    windows = recording["timeline"]
    title = f"Recording: {recording['name']}"
    files = {
        "windows.csv": _windows_csv(windows, classes),
        "alerts.csv": alerts_csv(recording.get("alerts") or [], with_recording=False),
    }
    body = [section("Summary", facts(_summary(recording)))]
    if windows:
        files["timeline.png"] = charts.timeline_chart(
            envelope=recording.get("envelope"), windows=windows, classes=classes,
            duration=recording["duration"])
        body.append(section("Over time", figure(
            "timeline.png", alt=f"timeline of {recording['name']}",
            caption="Top: the waveform, coloured by the emotion heard in each window (grey: silence). "
                    "Bottom: each emotion's probability per window.")))
    shares = recording.get("shares") or {}
    if shares:
        ordered = {c: shares.get(c, 0.0) for c in classes if c in shares}
        files["shares.png"] = charts.bar_chart(values=ordered, palette=palette,
                                               xlabel="share of voiced time (%)", percent=True)
        body.append(section("Share of voiced time", figure(
            "shares.png", alt="share of voiced time per emotion",
            caption=f"Silence (not counted here): {fmt_percent(recording.get('silence_share'))} "
                    "of the recording.")))
    else:
        body.append(section("Share of voiced time", Html('<p class="note">No voiced time: the whole '
                                                          "recording is silence.</p>")))
    body.append(section("Alerts", alerts_table(recording.get("alerts") or [], with_recording=False)))
    body.append(section("Tables", Html(
        f"<p>{link('windows.csv', 'windows.csv')} (one row per window) · "
        f"{link('alerts.csv', 'alerts.csv')}</p>")))
    files[INDEX] = page(title=title, subtitle=f"Uploaded {fmt_time(recording.get('uploaded_at'))}",
                        body=body)
    return Report(title=title, files=files)


def _classes(recording: Mapping) -> List[str]:
    """The model's classes (colour order); without a model, the emotions the data names."""
    model = recording.get("model") or {}
    if model.get("classes"):
        return list(model["classes"])
    names = set(recording.get("probabilities") or {}) | set(recording.get("shares") or {})
    for w in recording["timeline"]:
        names |= set(w.get("probabilities") or {})
    return charts.emotion_order(names)


def _summary(recording: Mapping) -> list:
    model = recording.get("model") or {}
    confidence = recording.get("confidence")
    pairs = [
        ("Overall emotion", Html(f"<strong>{esc(recording['label'])}</strong> "
                                 f"({esc(fmt_percent(confidence))} confidence)")),
        ("Based on", recording.get("basis")),
        ("Name", recording["name"]),
        ("Source", recording.get("source")),
        ("Uploaded", fmt_time(recording.get("uploaded_at"))),
        ("Duration", fmt_seconds(recording["duration"])),
        ("Voiced", f"{fmt_seconds(recording.get('voiced_seconds'))} "
                   f"(silence {fmt_percent(recording.get('silence_share'))})"),
        ("Windows", f"{len(recording['timeline'])} × {fmt_seconds(recording.get('window'))}, "
                    f"every {fmt_seconds(recording.get('hop'))}"),
        ("Alerts fired", len(recording.get("alerts") or [])),
        ("Model", f"{model.get('arch', '–')} ({model.get('path', '–')})"),
        ("Model SHA-256", Html(f'<span class="hash">{esc(model.get("sha256"))}</span>')),
    ]
    return pairs


def _windows_csv(windows, classes) -> bytes:
    """``windows.csv``: start, end (s), label, confidence, voiced, level_db (dBFS), then one
    probability column per class (empty for a silent window)."""
    rows = []
    for w in sorted(windows, key=lambda w: w["start"]):
        probs = w.get("probabilities") or {}
        rows.append([w.get(c) for c in _WINDOW_COLUMNS] + [probs.get(c) for c in classes])
    return csv_bytes([*_WINDOW_COLUMNS, *classes], rows)
