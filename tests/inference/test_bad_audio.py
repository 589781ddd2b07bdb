"""The bad-input corpus (``tests/fixtures/bad_audio.py``) through ``audio_test.py --dir`` and
``--file``, the Python API, and the block reader of long recordings (issue 14).

Every case is a real file; the CLI runs as a real subprocess (one ``--dir`` over the whole folder,
one ``--file`` with a few cases), the API in this process on the suite's tiny trained run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ser_tf.errors import AudioError
from ser_tf.runs import MODELS_ENV
from tests.fixtures.bad_audio import OK, by_name, make_bad_audio, write_long_wav

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return make_bad_audio(tmp_path_factory.mktemp("bad_audio"))


def _audio_test(args, *, cwd, models_dir):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **{MODELS_ENV: str(models_dir)})
    proc = subprocess.run([sys.executable, str(ROOT / "audio_test.py"), *args, "--json"], cwd=cwd,
                          env=env, capture_output=True, timeout=300)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return proc, stderr, json.loads(proc.stdout.decode("utf-8"))


def _check_result(case, result, stderr):
    if case.predict == OK:
        assert result["status"] == "ok", (case.name, result)
        return
    assert result["status"] != "ok", (case.name, result)
    assert any(w in result["error"].lower() for w in case.predict_reason), (case.name, result)
    assert f"{case.path}: " in stderr and "skipped" in stderr, case.name  # the file and the reason


def test_dir_classifies_the_valid_skips_the_invalid_and_counts(cases, tmp_path, models_dir):
    folder = cases[0].path.parent
    proc, stderr, document = _audio_test(["--dir", str(folder)], cwd=tmp_path, models_dir=models_dir)
    # --dir lists files with an audio suffix: the directory and the dangling symlink are not files.
    listed = [c for c in cases if c.path.is_file()]
    results = {r["source"]: r for r in document["results"]}
    assert sorted(results) == sorted(str(c.path) for c in listed)  # nothing lost
    for case in listed:
        _check_result(case, results[str(case.path)], stderr)
    failed = sum(c.predict != OK for c in listed)
    assert proc.returncode == 1 and document["failed"] == failed
    assert f"{failed} of {len(listed)} files could not be classified" in stderr
    # Read to the end block by block; its 7200 one-second windows are digital silence but for
    # 2 s at 0 and at 3600 s, and silent windows skip the model, so this takes seconds.
    long = results[str(by_name(cases)["two_hours"].path)]
    assert long["duration"] == pytest.approx(7200.0) and len(long["timeline"]) == 7200
    assert (tmp_path / "predictions.csv").read_text(encoding="utf-8").count("émotion_ü_声.wav") == 1


def test_file_names_each_refusal_and_json_keeps_non_ascii_names(cases, tmp_path, models_dir):
    chosen = [by_name(cases)[n] for n in ("non_ascii", "rate_1hz", "rate_10mhz", "nan", "broken_symlink",
                                          "directory", "six_channels")]
    proc, stderr, document = _audio_test(["--file", *[str(c.path) for c in chosen]], cwd=tmp_path,
                                         models_dir=models_dir)
    assert [r["source"] for r in document["results"]] == [str(c.path) for c in chosen]
    for case, result in zip(chosen, document["results"]):
        _check_result(case, result, stderr)
    assert proc.returncode == 1 and document["failed"] == 5
    assert "émotion_ü_声.wav" in proc.stdout.decode("utf-8") and "\\u" not in proc.stdout.decode("utf-8")


def test_python_api_predicts_the_valid_and_raises_audio_error_naming_the_file(cases, run_dir):
    import ser_tf

    model = ser_tf.load_model(run_dir)
    for case in cases:
        if case.name == "two_hours":
            continue  # predict_file reads a file whole; long recordings go to predict_long (below)
        if case.predict == OK:
            assert model.predict_file(case.path).label in model.classes, case.name
            continue
        with pytest.raises(AudioError) as caught:
            model.predict_file(case.path)
        message = str(caught.value).lower()
        assert str(case.path).lower() in message and any(w in message for w in case.predict_reason), message


def _peak_rss_kb(path) -> int:
    """Peak RSS (kB) of a fresh Python that reads ``path`` through ``iter_blocks`` as predict_long
    does: ``resource.getrusage(RUSAGE_CHILDREN)`` after it ends."""
    code = ("import sys\nfrom ser_tf.data.audio_io import iter_blocks\n"
            "n = sum(len(b) for _, b in iter_blocks(sys.argv[1], block_seconds=30.0))\nprint(n)\n")
    script = f"import resource, subprocess, sys\nsubprocess.run([sys.executable, '-c', {code!r}, sys.argv[1]], check=True)\n" \
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    samples, rss = proc.stdout.split()
    return int(samples), int(rss)


def test_two_hour_file_is_read_in_bounded_memory(tmp_path):
    short_n, short_rss = _peak_rss_kb(write_long_wav(tmp_path / "ten_s.wav", seconds=10.0, loud_at=(0.0,)))
    long_n, long_rss = _peak_rss_kb(write_long_wav(tmp_path / "two_h.wav"))
    assert (short_n, long_n) == (160_000, 115_200_000)
    # The whole file as float32 would be 460 MB; the reader holds one 30 s block (~2 MB).
    assert long_rss < short_rss + 64 * 1024 and long_rss < 1.5 * short_rss, (short_rss, long_rss)
