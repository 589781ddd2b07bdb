import csv
import json

from ser_tf.inference import render
from ser_tf.inference.results import LongPrediction, Prediction, StreamUpdate, WindowPrediction


def _pred(label="happy", probs=None):
    probs = probs or {"neutral": 0.1, "happy": 0.7, "sad": 0.2}
    top = sorted(probs.items(), key=lambda kv: -kv[1])
    return Prediction(label=label, confidence=probs[label], probabilities=probs, top_k=top[:2], duration=1.5)


def _long():
    windows = [
        WindowPrediction(0.0, 1.0, "happy", 0.7, {"neutral": 0.1, "happy": 0.7, "sad": 0.2}, True, -20.0),
        WindowPrediction(1.0, 2.0, "silence", None, {"neutral": 0.3, "happy": 0.3, "sad": 0.4}, False, -60.0),
    ]
    return LongPrediction(windows, _pred(), "mean of window probabilities over the 1 voiced windows of 2",
                          1.0, 1.0, 2.0)


def test_bar_uses_eighth_blocks_and_fixed_width():
    assert render.bar(1.0, width=4) == "████"
    assert render.bar(0.0, width=4) == "    "
    assert render.bar(0.5 + 1 / 32, width=4) == "██▏ "  # 2 cells and one eighth
    assert render.bar(7.0, width=3) == "███"  # clipped


def test_prediction_text_lists_top_k_with_bars():
    text = render.format_prediction(_pred(), name="clip.wav")
    lines = text.splitlines()
    assert lines[0] == "clip.wav (1.50 s): happy (70.0%)"
    assert lines[1].split()[:2] == ["happy", "70.0%"] and "█" in lines[1]
    assert len(lines) == 3  # top_k holds two classes


def test_long_text_has_the_timeline_and_the_basis():
    text = render.format_long(_long(), name="talk.wav")
    assert "2 windows of 1 s every 1 s, 1 voiced" in text
    assert "1.00      2.00  silence" in text
    assert "overall: happy (70.0%) -- mean of window probabilities over the 1 voiced windows" in text


def test_json_dicts_leave_out_silent_window_probabilities():
    d = render.result_dict("talk.wav", _pred(), _long())
    json.dumps(d)  # plain JSON types only
    assert d["status"] == "ok" and d["label"] == "happy" and d["top_k"][0] == {"label": "happy", "probability": 0.7}
    assert d["timeline"][1]["probabilities"] is None and d["timeline"][1]["confidence"] is None
    assert d["timeline"][0]["probabilities"]["happy"] == 0.7
    assert render.error_dict("x.wav", "boom") == {"source": "x.wav", "status": "error", "error": "boom"}


def test_stream_line_and_dict():
    u = StreamUpdate(1.0, 2.0, "silence", None, None, None, -70.0, 0.01, 0.02, 2.0)
    assert "silence" in render.format_update(u) and u.real_time_factor == 0.01
    assert render.update_dict(u)["label"] == "silence"


def test_csv_keeps_failed_files_with_their_error(tmp_path):
    results = [render.result_dict("a.wav", _pred()), render.error_dict("b.wav", "digital silence")]
    render.write_csv(tmp_path / "out.csv", results, ["neutral", "happy", "sad"])
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["path", "label", "confidence", "neutral", "happy", "sad", "error"]
    assert rows[0]["label"] == "happy" and float(rows[0]["happy"]) == 0.7 and rows[0]["error"] == ""
    assert rows[1]["label"] == "" and rows[1]["error"] == "digital silence"
