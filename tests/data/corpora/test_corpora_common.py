import pytest

from ser_tf.data.corpora import _common
from ser_tf.data.records import Record
from ser_tf.errors import DataError


def test_iter_audio_files_filters_and_sorts(tmp_path, write_wav, touch):
    write_wav(tmp_path / "b" / "2.wav")
    write_wav(tmp_path / "a.WAV")
    for name in ("c.flac", "d.OGG", "e.mp3"):
        touch(tmp_path / name, b"fake")
    touch(tmp_path / "notes.csv")
    touch(tmp_path / ".hidden.wav")
    touch(tmp_path / ".cache" / "x.wav")
    found = [p.relative_to(tmp_path).as_posix() for p in _common.iter_audio_files(tmp_path)]
    assert found == ["a.WAV", "b/2.wav", "c.flac", "d.OGG", "e.mp3"]


def test_check_root(tmp_path, touch):
    assert _common.check_root(tmp_path, corpus="x") == tmp_path
    with pytest.raises(DataError, match="x: corpus folder .* does not exist"):
        _common.check_root(tmp_path / "missing", corpus="x")
    with pytest.raises(DataError, match="is not a folder"):
        _common.check_root(touch(tmp_path / "file.wav"), corpus="x")
    with pytest.raises(DataError, match="no corpus folder given"):
        _common.check_root(None, corpus="x")


def test_finish_scan_sorts_warns_once_with_three_examples(tmp_path):
    records = [Record(str(tmp_path / n), "sad", "04", "x:1", "x") for n in ("b.wav", "a.wav")]
    skipped = [(str(tmp_path / f"bad{i}.wav"), f"reason {i}") for i in range(5)]
    with pytest.warns(_common.SkippedFilesWarning) as caught:
        result = _common.finish_scan(records, skipped, corpus="x", root=tmp_path, naming_scheme="S")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "skipped 5 of 7" in message
    assert "bad0.wav (reason 0); bad1.wav (reason 1); bad2.wav (reason 2); and 2 more" in message
    assert [r.path for r in result.records] == sorted(r.path for r in records)
    assert len(result.skipped) == 5


def test_finish_scan_without_records_explains(tmp_path):
    with pytest.raises(DataError, match="left out by the options"):
        _common.finish_scan(
            [], [], corpus="x", root=tmp_path, naming_scheme="S", dropped={"song": 2}
        )
