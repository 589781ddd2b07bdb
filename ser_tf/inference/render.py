"""Turning predictions into terminal text, JSON-ready dicts and CSV rows (no TensorFlow here)."""

from __future__ import annotations

import csv
import io
from typing import Dict, List, Optional, Sequence

from ser_tf.inference.results import LongPrediction, Prediction, StreamUpdate
from ser_tf.utils.io import atomic_path

# U+258F..U+2588: left one-eighth block up to full block, for bars with 1/8-character resolution.
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, *, width: int = 30) -> str:
    """A left-aligned bar of ``width`` characters filled to ``fraction`` (clipped to [0, 1])."""
    eighths = int(round(max(0.0, min(1.0, float(fraction))) * width * 8))
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[rest] if rest else "")
    return text.ljust(width)


def format_top_k(pred: Prediction, *, indent: str = "  ") -> str:
    """One line per top-k class: name, percentage and a probability bar."""
    width = max(len(label) for label, _ in pred.top_k)
    return "\n".join(f"{indent}{label:<{width}}  {100 * p:5.1f}%  {bar(p)}" for label, p in pred.top_k)


def format_prediction(pred: Prediction, *, name: str) -> str:
    """Header line with the label and confidence, then the top-k bars."""
    duration = "" if pred.duration is None else f" ({pred.duration:.2f} s)"
    return f"{name}{duration}: {pred.label} ({100 * pred.confidence:.1f}%)\n{format_top_k(pred)}"


def format_long(result: LongPrediction, *, name: str) -> str:
    """The window timeline, then the overall label with its bars and what it averages."""
    lines = [
        f"{name} ({result.duration:.2f} s): {len(result.timeline)} windows of {result.window:g} s "
        f"every {result.hop:g} s, {result.voiced_windows} voiced",
        f"  {'start':>8}  {'end':>8}  label",
    ]
    for w in result.timeline:
        conf = "" if w.confidence is None else f"  {100 * w.confidence:5.1f}%"
        lines.append(f"  {w.start:8.2f}  {w.end:8.2f}  {w.label}{conf}")
    o = result.overall
    lines.append(f"overall: {o.label} ({100 * o.confidence:.1f}%) -- {result.basis}")
    lines.append(format_top_k(o))
    return "\n".join(lines)


def format_update(u: StreamUpdate) -> str:
    """One live line: time, label, smoothed confidence bar, level."""
    head = f"[{u.end:7.1f} s] "
    if u.confidence is None:
        return f"{head}{'silence':<12} {'':>6}  {bar(0.0, width=20)}  {u.level_db:6.1f} dBFS"
    return f"{head}{u.label:<12} {100 * u.confidence:5.1f}%  {bar(u.confidence, width=20)}  {u.level_db:6.1f} dBFS"


# ---------------------------------------------------------------- JSON
# The shapes are the results' own ``to_dict()``; the CLI only names the source.


def result_dict(source: str, pred: Prediction, long: Optional[LongPrediction] = None) -> dict:
    out = (long if long is not None else pred).to_dict()
    out["source"] = source
    return out


def error_dict(source: str, message: str) -> dict:
    return {"source": source, "status": "error", "error": message}


def update_dict(u: StreamUpdate) -> dict:
    return u.to_dict()


# ---------------------------------------------------------------- CSV


def csv_rows(results: Sequence[dict], classes: Sequence[str]) -> List[Dict[str, object]]:
    """Rows ``path, label, confidence, <class>..., error`` from ``result_dict`` / ``error_dict``."""
    rows = []
    for r in results:
        row: Dict[str, object] = {"path": r["source"], "label": r.get("label", ""),
                                  "confidence": r.get("confidence", "")}
        probs = r.get("probabilities") or {}
        row.update({c: probs.get(c, "") for c in classes})
        row["error"] = r.get("error", "")
        rows.append(row)
    return rows


def write_csv(path, results: Sequence[dict], classes: Sequence[str]) -> None:
    """Write the per-file CSV atomically; failed files keep a row with their error."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["path", "label", "confidence", *classes, "error"])
    writer.writeheader()
    writer.writerows(csv_rows(results, classes))
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8", newline="")
