import pytest

from ser_tf.data.corpora import savee
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.errors import DataError


def test_flat_layout_every_code(tmp_path, write_wav):
    for code in savee.EMOTIONS:
        write_wav(tmp_path / "ALL" / f"DC_{code}01.wav")
    result = savee.scan(tmp_path)
    assert result.skipped == [] and len(result.records) == 7
    assert {r.corpus_label: r.emotion for r in result.records} == savee.EMOTIONS
    sad = next(r for r in result.records if r.corpus_label == "sa")
    assert sad.emotion == "sad" and sad.speaker == "savee:DC" and sad.gender == "male"
    assert sad.fields == {"sentence": "01"}
    assert next(r for r in result.records if r.corpus_label == "su").emotion == "surprised"


def test_audiodata_layout(tmp_path, write_wav):
    for speaker in savee.SPEAKERS:
        write_wav(tmp_path / "AudioData" / speaker / "su15.wav")
        write_wav(tmp_path / "AudioData" / speaker / "n30.wav")
    result = savee.scan(tmp_path)
    assert len(result.records) == 8
    assert sorted({r.speaker for r in result.records}) == [f"savee:{s}" for s in savee.SPEAKERS]
    assert {(r.emotion, r.fields["sentence"]) for r in result.records} == {
        ("surprised", "15"),
        ("neutral", "30"),
    }


def test_bad_names_skipped_and_errors(tmp_path, write_wav):
    write_wav(tmp_path / "JE_a01.wav")
    write_wav(tmp_path / "JE_s01.wav")  # plain "s" is no code
    write_wav(tmp_path / "XY_a01.wav")  # unknown speaker
    write_wav(tmp_path / "a01.wav")  # no speaker anywhere
    write_wav(tmp_path / "KL" / "DC_a02.wav")  # prefix and folder disagree
    with pytest.warns(SkippedFilesWarning, match="skipped 4 of 5") as caught:
        result = savee.scan(tmp_path)
    assert len(caught) == 1 and [r.speaker for r in result.records] == ["savee:JE"]
    reasons = " | ".join(r for _, r in result.skipped)
    assert "'XY'" in reasons and "no speaker" in reasons and "its folder is 'KL'" in reasons
    with pytest.raises(DataError, match="does not exist"):
        savee.scan(tmp_path / "gone")
    with pytest.raises(DataError) as err:
        savee.scan(tmp_path / "KL")
    assert savee.NAMING_SCHEME in str(err.value)
