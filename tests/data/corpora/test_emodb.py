import pytest

from ser_tf.data.corpora import emodb
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.errors import DataError


def test_every_emotion_letter(tmp_path, write_wav):
    for i, letter in enumerate(emodb.EMOTIONS):
        write_wav(tmp_path / "wav" / f"03a0{i + 1}{letter}{'ab'[i % 2]}.wav")
    write_wav(tmp_path / "wav" / "16b10Tc.wav")
    result = emodb.scan(tmp_path)
    assert result.skipped == [] and len(result.records) == 8
    by_letter = {r.corpus_label: r.emotion for r in result.records}
    assert by_letter == emodb.EMOTIONS and by_letter["L"] == "boredom"
    rec = result.records[0]
    assert rec.path.endswith("03a01Wa.wav")
    assert rec.speaker == "emodb:03" and rec.gender == "male" and rec.corpus == "emodb"
    assert rec.fields == {"text": "a01", "emotion_letter": "W", "version": "a"}
    assert result.records[-1].speaker == "emodb:16" and result.records[-1].gender == "female"


def test_genders_of_all_speakers():
    assert sorted(s for s, g in emodb.SPEAKER_GENDER.items() if g == "male") == [
        "03", "10", "11", "12", "15"
    ]
    assert sorted(s for s, g in emodb.SPEAKER_GENDER.items() if g == "female") == [
        "08", "09", "13", "14", "16"
    ]


def test_bad_names_skipped_and_errors(tmp_path, write_wav, touch):
    write_wav(tmp_path / "wav" / "03a01Fa.wav")
    write_wav(tmp_path / "wav" / "03a01Xa.wav")  # unknown emotion letter
    write_wav(tmp_path / "wav" / "04a01Fa.wav")  # no speaker 04
    write_wav(tmp_path / "wav" / "03a01F.wav")  # no version letter
    touch(tmp_path / "lablaut" / "03a01Fa.lab")
    with pytest.warns(SkippedFilesWarning, match="skipped 3 of 4") as caught:
        result = emodb.scan(tmp_path)
    assert len(caught) == 1 and len(result.records) == 1
    reasons = " | ".join(r for _, r in result.skipped)
    assert "emotion letter 'X'" in reasons and "speaker '04'" in reasons
    with pytest.raises(DataError, match="does not exist"):
        emodb.scan(tmp_path / "nothing")
    with pytest.raises(DataError) as err:
        emodb.scan(tmp_path / "lablaut")
    assert emodb.NAMING_SCHEME in str(err.value)
