"""A report as files: ``index.html`` plus the PNG charts and CSV tables it links by relative name.

The page is self-contained: inline CSS, no script, no CDN, every link relative, so the folder can
be mailed, archived or opened from a USB stick and still reads the same, on screen and printed.
Everything that comes from a user (recording names, rule texts, webhook replies) goes through
``html.escape``: a recording may be called ``<script>``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence

from ser_tf.errors import ParameterError
from ser_tf.utils.io import atomic_path

INDEX = "index.html"

# Print-friendly, no web fonts: the users would rather look than read, so tables stay plain.
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
img { max-width: 100%; height: auto; }
.note { color: #666; }
.hash { font-family: monospace; font-size: 0.9em; word-break: break-all; }
@media print { body { margin: 0; max-width: none; } h2, figure, tr { break-inside: avoid; } }
"""


@dataclasses.dataclass
class Report:
    """A finished report, held in memory until ``write``.

    Attributes:
        title: the page title (plain text).
        files: file name -> content; holds ``index.html`` and every chart and table it links.
            Names are bare file names (no folders), so the links stay relative.
    """

    title: str
    files: Dict[str, bytes]

    def write(self, out_dir) -> Path:
        """Write every file into ``out_dir`` (created if missing) and return the path of ``index.html``.

        Each file is written atomically; ``index.html`` goes last, so a page that exists never
        links a chart that is not there yet.

        Raises:
            ParameterError: a file name holds a path separator or is not a plain name, or there is
                no ``index.html``.
        """
        for name in self.files:
            if not name or "/" in name or "\\" in name or name in (".", "..") or "\0" in name:
                raise ParameterError(f"report file name {name!r} is not a plain file name "
                                     "(no folders, so that the page's links stay relative)")
        if INDEX not in self.files:
            raise ParameterError(f"report {self.title!r} has no {INDEX}; files: {sorted(self.files)}")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in sorted(self.files, key=lambda n: n == INDEX):
            with atomic_path(out_dir / name) as tmp:
                tmp.write_bytes(self.files[name])
        return out_dir / INDEX


class Html(str):
    """Markup already built (and escaped) here; ``esc`` passes it through unchanged."""


def esc(value) -> Html:
    """``value`` as HTML text: escaped, unless it is ``Html`` already; ``None`` as a dash."""
    if isinstance(value, Html):
        return value
    return Html("–" if value is None else html.escape(str(value), quote=True))


def page(*, title: str, subtitle: str = "", body: Iterable[str]) -> bytes:
    """A complete UTF-8 HTML page: ``title`` (plain text) as heading, then the ``body`` parts (Html)."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="note">{esc(subtitle)}</p>')
    parts.extend(body)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts).encode("utf-8")


def section(heading: str, *parts: str) -> Html:
    return Html(f"<h2>{esc(heading)}</h2>\n" + "\n".join(parts))


def facts(pairs: Sequence[tuple]) -> Html:
    """A two-column list of ``(name, value)`` pairs (values escaped unless ``Html``)."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return Html(f'<dl class="facts">{rows}</dl>')


def table(headers: Sequence[str], rows: Sequence[Sequence], *, numeric: Sequence[int] = (),
          empty: str = "none") -> Html:
    """An HTML table; cells escaped unless ``Html``; columns at the indices ``numeric`` right-aligned.

    ``empty`` is the sentence shown instead of a table without rows.
    """
    if not rows:
        return Html(f'<p class="note">{esc(empty)}</p>')
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{esc(c)}</td>' if i in numeric else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def figure(name: str, *, alt: str, caption: str = "") -> Html:
    """An image of this report's file ``name`` (a relative link) with an optional caption."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return Html(f'<figure><img src="{esc(name)}" alt="{esc(alt)}">{cap}</figure>')


def link(name: str, text: str) -> Html:
    """A relative link to this report's file ``name``."""
    return Html(f'<a href="{esc(name)}">{esc(text)}</a>')


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A UTF-8 CSV table; ``None`` is an empty cell, floats are written in full (``repr``) so they
    read back exactly, booleans as ``true``/``false``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return value


# Formatting for people (the CSVs keep the raw numbers).

def fmt_seconds(seconds: Optional[float]) -> str:
    """``4.2 s``, ``3 min 05 s``, ``2 h 07 min``."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def fmt_hours(seconds: float) -> str:
    """Seconds as hours with two decimals: ``1.25 h``."""
    return f"{seconds / 3600:.2f} h"


def fmt_percent(share: Optional[float]) -> str:
    """A share in [0, 1] as ``72.4 %``."""
    return "–" if share is None else f"{100 * share:.1f} %"


def fmt_time(stamp: Optional[str]) -> str:
    """The contract's ``2026-11-30T14:55:03Z`` as ``2026-11-30 14:55:03 UTC``."""
    if not stamp:
        return "–"
    return stamp.replace("T", " ").replace("Z", " UTC")


def parse_time(stamp: str) -> dt.datetime:
    """The contract's ``2026-11-30T14:55:03Z`` as an aware UTC datetime."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
