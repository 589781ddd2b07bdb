"""``python -m ser_tf.app``: the local web page for analysing, monitoring and reporting on emotion.

    python -m ser_tf.app                                   # default model, SQLite in models/
    python -m ser_tf.app --model models/latest --db postgresql://ser@127.0.0.1:5432/ser
    SER_TF_APP_TOKEN=... python -m ser_tf.app --host 0.0.0.0   # on the network: a token is required

Then open http://127.0.0.1:8000/. The logic is in ``ser_tf.app.server`` (routes) and
``ser_tf.app.service`` (model, store, alerts); this module only reads flags and starts uvicorn.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ser_tf.app.settings import (DEFAULT_HOST, DEFAULT_MAX_DURATION_S, DEFAULT_MAX_UPLOAD_MB, DEFAULT_PORT,
                                 TOKEN_ENV, AppSettings, token_from_env)
from ser_tf.errors import ModelError, ParameterError, SerError
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, start_tensorflow


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ser_tf.app", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpFormatter)
    parser.add_argument("--model", default="default",
                        help="'default' (the bundled model), a run folder, or a .keras/.h5 file")
    parser.add_argument("--db", default=None,
                        help="database URL: sqlite:///path.sqlite3 or postgresql://user@host:port/db "
                             "(default: sqlite:///models/ser_tf_app.sqlite3, under $SER_TF_MODELS if set)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on; anything but loopback needs --token or ${TOKEN_ENV}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (0: any free port)")
    parser.add_argument("--token", default=None,
                        help=f"API token every request must carry (default: ${TOKEN_ENV}; none on loopback)")
    parser.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
                        help="largest upload accepted, MB")
    parser.add_argument("--max-duration", type=float, default=DEFAULT_MAX_DURATION_S,
                        help="longest recording accepted (uploaded or streamed), seconds")
    parser.add_argument("--hop", type=float, default=1.0, help="seconds between timeline windows")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="recordings classified at the same time (others queue)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow pages from ORIGIN to call the API (repeatable; CORS is off by default)")
    add_output_flags(parser)
    return parser


def settings_from_args(args: argparse.Namespace) -> AppSettings:
    from ser_tf.storage import app_default_url

    return AppSettings(
        model=args.model, db_url=args.db or app_default_url(), host=args.host, port=args.port,
        token=token_from_env(args.token), max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_duration_s=args.max_duration, hop=args.hop, concurrency=args.concurrency,
        cors_origins=tuple(args.cors_origin),
    )


def build_service(settings: AppSettings):
    """Load the model and open the store: what ``main`` does before serving (tests use it too)."""
    import ser_tf
    from ser_tf.app.analysis import Analyzer
    from ser_tf.app.service import Service
    from ser_tf.storage import Store

    store = Store(settings.db_url)
    try:
        model = ser_tf.load_model(settings.model)
        return Service(settings=settings, analyzer=Analyzer(model, hop=settings.hop), store=store)
    except BaseException:
        store.close()
        raise


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    try:
        settings = settings_from_args(args)
        start_tensorflow(args)
        service = build_service(settings)
    except (ModelError, ParameterError, SerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import uvicorn

    from ser_tf.app.background import WS_MAX_BYTES
    from ser_tf.app.server import create_app

    print(f"ser_tf app: model {service.analyzer.model.path} ({service.analyzer.model.arch}), "
          f"database {service.store.dialect}; serving on http://{settings.host}:{settings.port}/",
          file=sys.stderr)
    uvicorn.run(create_app(service), host=settings.host, port=settings.port,
                log_level="info" if args.verbose else "warning", ws_max_size=WS_MAX_BYTES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
