from ser_tf.report.charts import _merged, _segments, bar_chart, daily_shares_chart, emotion_order, timeline_chart
from tests.report.support import decode_png, window


def test_overlapping_windows_share_the_time_at_their_midpoints():
    windows = [window(1.0, label="sad"), window(0.0, label="happy"), window(2.0, label="silence")]
    windows[1]["id"] = 12  # a key a store may add; ignored
    assert _segments(windows) == [(0.0, 1.5, "happy"), (1.5, 2.5, "sad"), (2.5, 4.0, "silence")]


def test_emotion_order_is_canonical_then_alphabetical_without_silence():
    assert emotion_order({"zeal", "sad", "silence", "neutral", "apathy"}) == ["neutral", "sad", "apathy", "zeal"]


def test_charts_survive_thin_inputs():
    # No envelope, one window; no emotions at all; a count of zero.
    decode_png(timeline_chart(envelope=None, windows=[window(0.0, label="happy")], classes=("happy",),
                              duration=2.0))
    decode_png(daily_shares_chart(days=["Mon"], shares=[{}], emotions=[], palette={}))
    decode_png(bar_chart(values={"sad": 0}, palette={}, xlabel="recordings", percent=False))


def test_neighbouring_spans_of_one_label_merge():
    spans = [(0.0, 1.5, "sad"), (1.5, 2.5, "sad"), (2.5, 3.5, "silence"), (3.5, 4.0, "sad")]
    assert _merged(spans) == [(0.0, 2.5, "sad"), (2.5, 3.5, "silence"), (3.5, 4.0, "sad")]
