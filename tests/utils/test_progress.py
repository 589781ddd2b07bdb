"""ser_tf.utils.progress: when a bar shows."""

import io

import pytest

from ser_tf.utils import progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _switch_back():
    yield
    progress.set_enabled(True)


def test_not_a_tty_means_no_bar():
    assert not progress.bars_enabled(stream=io.StringIO())
    assert not progress.bars_enabled(True, stream=io.StringIO())


def test_a_tty_shows_a_bar_unless_quiet():
    assert progress.bars_enabled(stream=_Tty())
    progress.set_enabled(False)  # what --quiet does
    assert not progress.bars_enabled(stream=_Tty())
    assert not progress.bars_enabled(False, stream=_Tty())


def test_closed_stream_means_no_bar():
    stream = io.StringIO()
    stream.close()
    assert not progress.bars_enabled(stream=stream)


def test_progress_on_a_tty_draws_a_bar_and_yields_every_item(monkeypatch):
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert list(progress.progress(range(5), desc="probing", unit="file")) == list(range(5))
    assert "probing" in tty.getvalue()


def test_progress_without_a_tty_is_the_plain_iterable(capsys):
    assert list(progress.progress([1, 2, 3], desc="probing")) == [1, 2, 3]
    with progress.bar(desc="folds", total=3) as b:
        b.update()
    assert capsys.readouterr().err == ""


def test_step_line_gives_an_eta_from_the_steps_timed_so_far():
    assert progress.step_line("fold", 1, 6, []) == "fold 1 of 6"
    assert progress.step_line("fold", 3, 6, [100.0, 140.0]) == "fold 3 of 6, about 8 min left"  # 4 x 120 s
    assert progress.step_line("fold", 6, 6, [30.0]) == "fold 6 of 6, about 30 s left"


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (89.4, "89 s"), (95, "2 min"), (600, "10 min"), (7500, "2 h 05 min")])
def test_format_duration(seconds, text):
    assert progress.format_duration(seconds) == text
