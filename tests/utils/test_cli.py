"""Every command line: --quiet / --verbose parse the same way, and --help names each default once."""

import importlib.util
import re
from pathlib import Path

import pytest

from ser_tf.utils import progress
from ser_tf.utils.cli import apply_output_flags

ROOT = Path(__file__).resolve().parents[2]


def _evaluate_parser():
    spec = importlib.util.spec_from_file_location("evaluate_script", ROOT / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_parser()


def _parser(module):
    return importlib.import_module(module).build_parser()


# (name, parser factory, the smallest valid arguments)
CLIS = [
    ("audio_test.py", lambda: _parser("ser_tf.inference.cli"), ["--file", "x.wav"]),
    ("train.py", lambda: _parser("ser_tf.training.cli"), []),
    ("evaluate.py", _evaluate_parser, ["--data", "demo"]),
    ("python -m ser_tf.data", lambda: _parser("ser_tf.data.__main__"), []),
    ("convert_whisper", lambda: _parser("ser_tf.tools.convert_whisper"), ["--checkpoint", "d", "--compare"]),
    ("convert_hubert", lambda: _parser("ser_tf.tools.convert_hubert"), ["--checkpoint", "d", "--compare"]),
]
IDS = [name for name, _, _ in CLIS]


@pytest.fixture(autouse=True)
def _bars_back_on():
    yield
    progress.set_enabled(True)


@pytest.mark.parametrize("name, factory, base", CLIS, ids=IDS)
def test_quiet_and_verbose_parse(name, factory, base):
    parser = factory()
    args = parser.parse_args(base)
    assert (args.quiet, args.verbose) == (False, False)
    args = parser.parse_args([*base, "--quiet", "--verbose"])
    assert (args.quiet, args.verbose) == (True, True)
    apply_output_flags(args)
    assert progress.is_quiet()
    apply_output_flags(parser.parse_args(base))
    assert not progress.is_quiet()


@pytest.mark.parametrize("name, factory, base", CLIS, ids=IDS)
def test_help_names_each_default_once(name, factory, base):
    parser = factory()
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.help or action.help == "==SUPPRESS==":
            continue
        shown = formatter._expand_help(action)
        # A statement of the default ("default: X", "(default: X)", "defaults to X"); the value
        # 'default' (--model default) is a name, not a statement.
        statements = re.findall(r"\bdefault(?::|s to\b)", shown, flags=re.IGNORECASE)
        assert len(statements) <= 1, (name, action.option_strings, shown)
        assert "(default: None)" not in shown and "(default: False)" not in shown, shown
