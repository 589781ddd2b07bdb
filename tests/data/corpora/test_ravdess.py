import warnings

import pytest

from ser_tf.data.corpora import ravdess
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.data.labels import CANONICAL_EMOTIONS
from ser_tf.errors import DataError, ParameterError


def _name(mod="03", chan="01", emo="01", inten="01", stmt="01", rep="01", actor="01"):
    return f"{mod}-{chan}-{emo}-{inten}-{stmt}-{rep}-{actor}.wav"


def test_every_emotion_code_in_actor_folders(tmp_path, write_wav):
    for code in ravdess.EMOTIONS:
        write_wav(tmp_path / "Actor_07" / _name(emo=code, inten="02", actor="07"))
        write_wav(tmp_path / "Actor_08" / _name(emo=code, stmt="02", rep="02", actor="08"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean corpus scans without a warning
        result = ravdess.scan(tmp_path)
    assert len(result.records) == 16 and result.skipped == []
    by_code = {r.corpus_label: r.emotion for r in result.records}
    assert by_code == ravdess.EMOTIONS
    assert set(ravdess.EMOTIONS.values()) <= set(CANONICAL_EMOTIONS)
    paths = [r.path for r in result.records]
    assert paths == sorted(paths) and all(p.startswith(str(tmp_path)) for p in paths)

    rec = result.records[0]
    assert rec.speaker == "ravdess:07" and rec.corpus == "ravdess" and rec.gender == "male"
    assert rec.fields == {
        "modality": "audio_only",
        "vocal_channel": "speech",
        "emotion_code": "01",
        "intensity": "strong",
        "statement": "01",
        "repetition": "01",
        "actor": "07",
    }
    female = [r for r in result.records if r.speaker == "ravdess:08"]
    assert {r.gender for r in female} == {"female"}
    assert {(r.fields["statement"], r.fields["repetition"]) for r in female} == {("02", "02")}


def test_files_directly_under_root_and_uppercase_extension(tmp_path, write_wav):
    write_wav(tmp_path / _name(emo="05", actor="24").replace(".wav", ".WAV"))
    (rec,) = ravdess.scan(tmp_path).records
    assert rec.emotion == "angry" and rec.speaker == "ravdess:24" and rec.gender == "female"


def test_vocal_channels_option_drops_song(tmp_path, write_wav):
    write_wav(tmp_path / _name(chan="01"))
    write_wav(tmp_path / _name(chan="02", rep="02"))
    assert len(ravdess.scan(tmp_path).records) == 2
    result = ravdess.scan(tmp_path, vocal_channels=("speech",))
    assert [r.fields["vocal_channel"] for r in result.records] == ["speech"]
    assert result.dropped == {"vocal_channel=song not selected": 1}
    assert result.skipped == []
    with pytest.raises(ParameterError, match="vocal_channels"):
        ravdess.scan(tmp_path, vocal_channels=("speach",))


def test_bad_names_are_skipped_with_one_warning(tmp_path, write_wav, touch):
    write_wav(tmp_path / "Actor_01" / _name())
    write_wav(tmp_path / "Actor_01" / _name(emo="09"))  # unknown emotion
    write_wav(tmp_path / "Actor_01" / _name(mod="01"))  # full AV: not audio-only
    write_wav(tmp_path / "Actor_01" / _name(actor="25"))  # no such actor
    write_wav(tmp_path / "Actor_01" / "take1.wav")
    touch(tmp_path / "README.md")  # non-audio: ignored silently
    touch(tmp_path / "Actor_01" / "._03-01-01-01-01-01-01.wav")  # macOS fork: hidden
    with pytest.warns(SkippedFilesWarning) as caught:
        result = ravdess.scan(tmp_path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "skipped 4 of 5" in message and "and 1 more" in message
    assert len(result.records) == 1 and len(result.skipped) == 4
    reasons = dict((p.rsplit("/", 1)[-1], r) for p, r in result.skipped)
    assert "emotion code '09'" in reasons[_name(emo="09")]
    assert "full_av" in reasons[_name(mod="01")]
    assert "actor code '25'" in reasons[_name(actor="25")]
    # A .wav coded full-AV is kept when asked for.
    with pytest.warns(SkippedFilesWarning, match="skipped 3 of 5"):
        kept = ravdess.scan(tmp_path, modalities=("audio_only", "full_av"))
    assert len(kept.records) == 2


def test_missing_root_and_no_matching_files(tmp_path, write_wav):
    with pytest.raises(DataError, match="does not exist"):
        ravdess.scan(tmp_path / "nope")
    write_wav(tmp_path / "speech.wav")
    with pytest.raises(DataError) as err:  # the error itself shows the skipped examples
        ravdess.scan(tmp_path)
    assert str(tmp_path) in str(err.value) and ravdess.NAMING_SCHEME in str(err.value)
    assert "speech.wav" in str(err.value)
