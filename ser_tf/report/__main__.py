"""``python -m ser_tf.report``: write a period's or a recording's report from the app's database.

Examples::

    python -m ser_tf.report --period week --out reports/this-week       # the week so far
    python -m ser_tf.report --db sqlite:///models/ser_tf_app.sqlite3 --period day --start 2026-11-30 --out r/day
    python -m ser_tf.report --recording 42 --out reports/recording-42

The folder gets ``index.html`` with its PNG charts and CSV tables beside it; the path of
``index.html`` is printed. Exit status 2 with a one-line message on stderr for bad arguments or an
unknown recording.

Scheduling is left to cron. Every Monday at 06:00 UTC, last week's report into a folder named
after its ISO week. In a crontab ``%`` must be written ``\\%``; GNU ``date -d 'last monday'`` run on
a Monday is the Monday a week before, the first day of the week just finished. ``CRON_TZ`` is
cronie's; where cron lacks it, pick an hour at which it is Monday both locally and in UTC::

    CRON_TZ=UTC
    0 6 * * 1 cd /srv/ser_tf && venv/bin/python -m ser_tf.report --db sqlite:///models/ser_tf_app.sqlite3 --period week --start $(date -u -d 'last monday' +\\%F) --out reports/$(date -u -d 'last monday' +\\%G-W\\%V) --quiet
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Optional, Sequence

from ser_tf.errors import SerError
from ser_tf.report.gather import gather_period, gather_recording
from ser_tf.report.period import PERIOD_DAYS
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags

def build_parser() -> argparse.ArgumentParser:
    from ser_tf.storage import app_default_url

    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.report",
        description="Write the HTML report (with PNG charts and CSV tables) of a day, an ISO week, "
        "or one recording, from the database of the app (python -m ser_tf.app).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--db", default=app_default_url(),
                        help="database URL: sqlite:///FILE or postgresql://user@host:5432/dbname")
    parser.add_argument("--period", choices=sorted(PERIOD_DAYS), default="week",
                        help="a day, or an ISO week (Monday to Sunday, UTC)")
    parser.add_argument("--start", metavar="YYYY-MM-DD", default=None,
                        help="a day in the period (a week starts on the Monday before it); "
                        "not given: the period holding today (UTC)")
    parser.add_argument("--recording", metavar="ID", type=int, default=None,
                        help="report this one recording instead of a period")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write index.html and its files into (created if missing)")
    add_output_flags(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    start = None
    if args.start is not None:
        if args.recording is not None:
            parser.error(f"--start {args.start} is for a period; --recording {args.recording} "
                         "reports one recording")
        try:
            start = dt.date.fromisoformat(args.start)
        except ValueError:
            parser.error(f"--start must be a date as YYYY-MM-DD, got {args.start!r}")
    missing = _missing_sqlite_file(args.db)
    if missing:
        # Opening it would create an empty database and report "no recordings": a typo, not news.
        parser.error(f"--db {args.db}: no database file at {missing}")
    from ser_tf.storage import Store

    try:
        store = Store(args.db)
        try:
            if args.recording is not None:
                report = gather_recording(store, args.recording)
            else:
                report = gather_period(store, period=args.period, start=start)
        finally:
            store.close()
        index = report.write(args.out)
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"{report.title}", file=sys.stderr)
    print(index)
    return 0


def _missing_sqlite_file(url: str) -> Optional[str]:
    """The file of a ``sqlite:///FILE`` URL when it does not exist; ``None`` otherwise (a URL that
    does not parse is left for ``Store`` to refuse with its own message)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or Path(path).exists():
        return None
    return path


if __name__ == "__main__":
    sys.exit(main())
