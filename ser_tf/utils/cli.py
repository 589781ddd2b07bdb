"""What the command-line entry points share."""

from __future__ import annotations

import argparse
import json
import os
import sys


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only for flags with a default of their own. A flag left unset
    (``None``, ``False``, ``[]``) defers to something else -- the recipe, the run folder -- and its
    help text says so once, instead of a second, misleading ``(default: None)``."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def emit_json(document) -> None:
    """Print ``document`` as one indented JSON document on stdout, in UTF-8 whatever the locale,
    with non-ASCII text (file names such as ``émotion_声.wav``) as written, not ``\\u`` escapes.
    A reader that left (``... | head``) is not an error."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)  # absent when stdout was replaced by a StringIO
        buffer.write(text.encode("utf-8")) if buffer is not None else sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` and ``--quiet``, the same on every command; read back by ``apply_output_flags``."""
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's own start-up and log lines (as does SER_TF_DEBUG=1)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or progress messages; warnings and errors still show")


def apply_output_flags(args: argparse.Namespace) -> None:
    """Turn progress bars off for ``--quiet`` (they are also off whenever stderr is not a terminal)."""
    from ser_tf.utils import progress

    progress.set_enabled(not getattr(args, "quiet", False))


def start_tensorflow(args: argparse.Namespace, import_tensorflow=None) -> None:
    """Import TensorFlow without its start-up noise unless ``--verbose`` or ``SER_TF_DEBUG=1``
    (``ser_tf.utils.quiet.quiet_tensorflow``); call it right before the first TensorFlow import."""
    from ser_tf.utils.quiet import quiet_tensorflow

    quiet_tensorflow(getattr(args, "verbose", False), import_tensorflow=import_tensorflow)
