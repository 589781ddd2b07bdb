import pytest

from ser_tf.data.corpora import folder
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.errors import DataError, LabelError, ParameterError

FOLDERS = {
    "Anger": "angry",
    "Happy": "happy",
    "neutral": "neutral",
    "Surprise": "surprised",
    "SAD": "sad",
    "fear": "fearful",
    "Disgust": "disgust",
    "calm": "calm",
    "Pleasant Surprise": "pleasant_surprise",
    "Boredom": "boredom",
    "Fright": "fearful",  # from the module's EXTRA_SYNONYMS
}


def test_class_folders_map_to_emotions(tmp_path, write_wav):
    for name in FOLDERS:
        write_wav(tmp_path / name / "JK_0001.wav")
    write_wav(tmp_path / "Happy" / "session2" / "DC_0002.wav")  # deeper files count too
    result = folder.scan(tmp_path)
    assert result.skipped == [] and len(result.records) == len(FOLDERS) + 1
    for rec in result.records:
        assert rec.emotion == FOLDERS[rec.corpus_label]
        assert rec.fields == {"class_folder": rec.corpus_label}
        assert rec.speaker == "folder:unknown" and rec.gender is None and rec.corpus == "folder"


def test_speaker_pattern(tmp_path, write_wav):
    write_wav(tmp_path / "Anger" / "JK_0001.wav")
    write_wav(tmp_path / "Anger" / "DC_0001.wav")
    write_wav(tmp_path / "Happy" / "take3.wav")
    with pytest.warns(UserWarning, match="matched no speaker in 1 of 3"):
        result = folder.scan(tmp_path, speaker_pattern=r"^(?P<speaker>[A-Z]{2})_")
    assert [r.speaker for r in result.records] == ["folder:DC", "folder:JK", "folder:unknown"]
    with pytest.raises(ParameterError, match="no named group 'speaker'"):
        folder.scan(tmp_path, speaker_pattern=r"^([A-Z]{2})_")
    with pytest.raises(ParameterError, match="not a valid regex"):
        folder.scan(tmp_path, speaker_pattern=r"^(?P<speaker>[A-Z")


def test_unknown_folder_names_raise_listing_them(tmp_path, write_wav):
    write_wav(tmp_path / "Anger" / "a.wav")
    write_wav(tmp_path / "Contempt" / "b.wav")
    write_wav(tmp_path / "misc" / "c.wav")
    (tmp_path / "empty").mkdir()  # holds no audio: not a class
    with pytest.raises(LabelError) as err:
        folder.scan(tmp_path)
    message = str(err.value)
    assert "['Contempt', 'misc']" in message and "'angry'" in message and "empty" not in message


def test_root_files_skipped_and_errors(tmp_path, write_wav):
    with pytest.raises(DataError, match="does not exist"):
        folder.scan(tmp_path / "none")
    write_wav(tmp_path / "loose.wav")
    with pytest.raises(DataError) as err:
        folder.scan(tmp_path)
    assert folder.NAMING_SCHEME in str(err.value) and "not inside a class folder" in str(err.value)
    write_wav(tmp_path / "sad" / "x.wav")
    with pytest.warns(SkippedFilesWarning, match="skipped 1 of 2"):
        assert [r.emotion for r in folder.scan(tmp_path).records] == ["sad"]
