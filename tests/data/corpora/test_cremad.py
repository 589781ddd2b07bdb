import pytest

from ser_tf.data.corpora import cremad
from ser_tf.data.corpora._common import SkippedFilesWarning
from ser_tf.errors import DataError

CSV = (
    "ActorID,Age,Sex,Race,Ethnicity\n"
    "1001,51,Male,Caucasian,Not Hispanic\n"
    "1002,21,Female,Asian,Not Hispanic\n"
)


def test_every_emotion_and_level(tmp_path, write_wav):
    wav = tmp_path / "AudioWAV"
    for i, code in enumerate(cremad.EMOTIONS):
        write_wav(wav / f"1001_{cremad.SENTENCES[i]}_{code}_{cremad.LEVELS[i % 4]}.wav")
    result = cremad.scan(wav)
    assert result.skipped == [] and len(result.records) == 6
    assert {r.corpus_label: r.emotion for r in result.records} == cremad.EMOTIONS
    rec = next(r for r in result.records if r.corpus_label == "ANG")
    assert rec.speaker == "cremad:1001" and rec.corpus == "cremad"
    assert rec.gender is None  # no demographics file anywhere
    assert rec.fields == {"sentence": "IEO", "level": "LO"}
    assert {r.fields["level"] for r in result.records} == set(cremad.LEVELS)


def test_demographics_found_in_parent_or_given(tmp_path, write_wav, touch):
    wav = tmp_path / "AudioWAV"
    write_wav(wav / "1001_DFA_ANG_XX.wav")
    write_wav(wav / "1002_DFA_SAD_HI.wav")
    write_wav(wav / "1003_DFA_HAP_LO.wav")  # not in the CSV: no gender, no demographics
    touch(tmp_path / cremad.DEMOGRAPHICS_FILE, CSV.encode())
    records = {r.speaker: r for r in cremad.scan(wav).records}
    assert records["cremad:1001"].gender == "male"
    assert records["cremad:1002"].gender == "female"
    assert records["cremad:1001"].fields == {
        "sentence": "DFA",
        "level": "XX",
        "age": "51",
        "sex": "Male",
        "race": "Caucasian",
        "ethnicity": "Not Hispanic",
    }
    assert records["cremad:1003"].gender is None and "age" not in records["cremad:1003"].fields

    elsewhere = touch(tmp_path / "meta" / "demo.csv", CSV.encode())
    (tmp_path / cremad.DEMOGRAPHICS_FILE).unlink()
    assert cremad.scan(wav, demographics=elsewhere).records[1].gender == "female"
    with pytest.raises(DataError, match="does not exist"):
        cremad.scan(wav, demographics=tmp_path / "nope.csv")
    bad = touch(tmp_path / "bad.csv", b"ActorID,Age\n1001,51\n")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['Sex', 'Race', 'Ethnicity'\]"):
        cremad.scan(wav, demographics=bad)


def test_wav_and_mp3_copies_are_kept_once(tmp_path, write_wav, touch):
    write_wav(tmp_path / "AudioWAV" / "1001_DFA_ANG_XX.wav")
    touch(tmp_path / "AudioMP3" / "1001_DFA_ANG_XX.mp3", b"ID3 fake mp3")
    touch(tmp_path / "AudioMP3" / "1001_DFA_DIS_XX.mp3", b"ID3 fake mp3")  # only as mp3
    result = cremad.scan(tmp_path)
    names = [r.path.rsplit("/", 2)[-2:] for r in result.records]
    assert names == [["AudioMP3", "1001_DFA_DIS_XX.mp3"], ["AudioWAV", "1001_DFA_ANG_XX.wav"]]
    assert result.dropped == {"duplicate .mp3 copy of a clip kept as .wav": 1}
    assert result.skipped == []


def test_bad_names_are_skipped(tmp_path, write_wav):
    write_wav(tmp_path / "1001_DFA_ANG_XX.wav")
    write_wav(tmp_path / "1001_DFA_CON_XX.wav")  # unknown emotion
    write_wav(tmp_path / "1001_ABC_ANG_XX.wav")  # unknown sentence
    write_wav(tmp_path / "1001_DFA_ANG_ZZ.wav")  # unknown level
    write_wav(tmp_path / "0999_DFA_ANG_XX.wav")  # actor out of range
    with pytest.warns(SkippedFilesWarning, match="skipped 4 of 5") as caught:
        result = cremad.scan(tmp_path)
    assert len(caught) == 1 and len(result.records) == 1
    reasons = " | ".join(r for _, r in result.skipped)
    for part in ("emotion code 'CON'", "sentence code 'ABC'", "level code 'ZZ'", "1001-1091"):
        assert part in reasons


def test_missing_root_and_no_matching_files(tmp_path, write_wav):
    with pytest.raises(DataError, match="does not exist"):
        cremad.scan(tmp_path / "AudioWAV")
    write_wav(tmp_path / "AudioWAV" / "clip.wav")
    with pytest.raises(DataError) as err:
        cremad.scan(tmp_path)
    assert cremad.NAMING_SCHEME in str(err.value) and str(tmp_path) in str(err.value)
