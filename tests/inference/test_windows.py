import numpy as np
import pytest

from ser_tf.errors import ParameterError
from ser_tf.inference.windows import WindowFramer


def _frame(x, *, window, hop, chunk, head=False, min_length=1):
    framer = WindowFramer(window=window, hop=hop, head=head, min_length=min_length)
    out = []
    for i in range(0, len(x), chunk):
        out.extend(framer.push(x[i:i + chunk]))
    out.extend(framer.flush())
    return out, framer


def test_grid_then_tail_window_ending_at_the_end():
    x = np.arange(35, dtype=np.float32)
    windows, _ = _frame(x, window=10, hop=10, chunk=7)
    assert [(w.start, w.end) for w in windows] == [(0, 10), (10, 20), (20, 30), (25, 35)]
    for w in windows:  # each window holds exactly its slice of the stream
        np.testing.assert_array_equal(w.samples, x[w.start:w.end])


def test_no_tail_window_when_the_grid_reaches_the_end():
    windows, _ = _frame(np.zeros(30, np.float32), window=10, hop=5, chunk=4)
    assert [w.start for w in windows] == [0, 5, 10, 15, 20]


@pytest.mark.parametrize("chunk", [1, 3, 16, 1000])
def test_windows_do_not_depend_on_chunk_size(chunk, rng):
    x = rng.standard_normal(1000).astype(np.float32)
    reference, _ = _frame(x, window=160, hop=64, chunk=1000)
    windows, _ = _frame(x, window=160, hop=64, chunk=chunk)
    assert [w.start for w in windows] == [w.start for w in reference]
    for a, b in zip(windows, reference):
        np.testing.assert_array_equal(a.samples, b.samples)


def test_memory_stays_bounded_over_a_long_stream():
    framer = WindowFramer(window=100, hop=30)
    for _ in range(1000):
        framer.push(np.ones(50, np.float32))
        assert len(framer._buf) <= 100 + 50
    assert framer.total == 50_000


def test_short_recording_gives_one_short_window_or_none():
    windows, _ = _frame(np.ones(6, np.float32), window=10, hop=5, chunk=4, min_length=5)
    assert [(w.start, w.end) for w in windows] == [(0, 6)]
    windows, _ = _frame(np.ones(4, np.float32), window=10, hop=5, chunk=4, min_length=5)
    assert windows == []


def test_head_mode_emits_growing_windows_on_the_hop_cadence():
    x = np.arange(50, dtype=np.float32)
    framer = WindowFramer(window=30, hop=10, head=True, min_length=10)
    ends = []
    for i in range(0, 50, 5):
        ends.extend((w.start, w.end) for w in framer.push(x[i:i + 5]))
    # ends 10, 20 while filling, then full windows ending 30, 40, 50: one window per hop.
    assert ends == [(0, 10), (0, 20), (0, 30), (10, 40), (20, 50)]


def test_framer_rejects_bad_sizes():
    with pytest.raises(ParameterError, match="window and hop"):
        WindowFramer(window=0, hop=1)
