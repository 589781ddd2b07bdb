import pytest

from ser_tf.data.corpora import tess
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.errors import DataError

# (folder, file name, expected canonical emotion) in the Kaggle layouts and spellings.
CASES = [
    ("OAF_angry", "OAF_back_angry.wav", "angry"),
    ("OAF_disgust", "OAF_back_disgust.wav", "disgust"),
    ("OAF_Fear", "OAF_back_fear.wav", "fearful"),
    ("OAF_happy", "OAF_back_happy.wav", "happy"),
    ("OAF_neutral", "OAF_back_neutral.wav", "neutral"),
    ("OAF_Pleasant_surprise", "OAF_back_ps.wav", "pleasant_surprise"),
    ("OAF_Sad", "OAF_back_sad.wav", "sad"),
    ("YAF_pleasant_surprised", "YAF_bath_ps.wav", "pleasant_surprise"),
    ("YAF_pleasant_surprised", "YAF_bite_pleasant_surprised.wav", "pleasant_surprise"),
    ("YAF_pleasant_surprised", "YAF_cab_Pleasant_Surprise.wav", "pleasant_surprise"),
    ("YAF_fear", "yaf_chain_FEAR.wav", "fearful"),
]


def test_every_emotion_token_and_layout(tmp_path, write_wav):
    nested = tmp_path / "TESS Toronto emotional speech set data"
    for folder, name, _ in CASES:
        write_wav(nested / folder / name)
    write_wav(tmp_path / "OA_bite_neutral.wav")  # abbreviated speaker in some releases
    result = tess.scan(tmp_path)
    assert result.skipped == []
    got = {r.path.rsplit("/", 1)[-1]: r for r in result.records}
    for _, name, emotion in CASES:
        assert got[name].emotion == emotion, name
    assert set(tess.EMOTIONS) <= {r.corpus_label for r in result.records}
    assert got["OAF_back_ps.wav"].corpus_label == "ps"
    assert got["YAF_bath_ps.wav"].speaker == "tess:YAF"
    assert got["OA_bite_neutral.wav"].speaker == "tess:OAF"
    assert got["YAF_bite_pleasant_surprised.wav"].fields == {"word": "bite"}
    assert got["yaf_chain_FEAR.wav"].fields == {"word": "chain"}
    assert {r.gender for r in result.records} == {"female"}
    assert [r.path for r in result.records] == sorted(r.path for r in result.records)


def test_bad_names_and_folder_conflicts_are_skipped(tmp_path, write_wav, touch):
    write_wav(tmp_path / "OAF_angry" / "OAF_back_angry.wav")
    write_wav(tmp_path / "OAF_angry" / "OAF_back_bored.wav")  # unknown emotion
    write_wav(tmp_path / "OAF_angry" / "MAF_back_angry.wav")  # unknown speaker
    write_wav(tmp_path / "OAF_angry" / "OAF_bar_sad.wav")  # folder says angry
    touch(tmp_path / "OAF_angry" / "notes.txt")
    with pytest.warns(SkippedFilesWarning, match="skipped 3 of 4") as caught:
        result = tess.scan(tmp_path)
    assert len(caught) == 1 and len(result.records) == 1
    reasons = " | ".join(r for _, r in result.skipped)
    assert "MAF" in reasons and "says OAF/angry" in reasons and "emotion must be one of" in reasons


def test_missing_root_and_no_matching_files(tmp_path, touch):
    with pytest.raises(DataError, match="does not exist"):
        tess.scan(tmp_path / "missing")
    touch(tmp_path / "readme.txt")
    with pytest.raises(DataError, match="no clips found") as err:
        tess.scan(tmp_path)
    assert tess.NAMING_SCHEME in str(err.value) and "holds no audio file" in str(err.value)
