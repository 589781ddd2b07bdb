"""Tests of ser_tf.data.splits: speaker-disjoint splits, folds, LOSO, random split, leak guard."""

from collections import Counter

import numpy as np
import pytest

from ser_tf.data.records import Record
from ser_tf.data.splits import (
    FINAL_MODEL_NOTE,
    RANDOM_SPLIT_WARNING,
    Split,
    check_disjoint,
    leave_one_speaker_out,
    make_splits,
    random_split,
    speaker_kfold,
    speaker_split,
)
from ser_tf.errors import DataError, ParameterError

EIGHT = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def make_records(n_speakers, *, corpus="ravdess", emotions=EIGHT, clips=2, gender="alternate",
                 start=1):
    """``clips`` records per speaker and emotion; odd speakers male when ``gender="alternate"``."""
    out = []
    for s in range(start, start + n_speakers):
        g = ("male" if s % 2 else "female") if gender == "alternate" else gender
        for e in emotions:
            for k in range(clips):
                out.append(Record(f"/data/{corpus}/{s:02d}/{e}-{k}.wav", e, e, f"{corpus}:{s:02d}",
                                  corpus, gender=g))
    return out


def uneven_records(seed):
    """Speakers with different emotion sets, clip counts and missing genders."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(1, 15):
        emotions = rng.choice(EIGHT, size=int(rng.integers(3, 9)), replace=False)
        gender = (None, "male", "female")[s % 3]
        for e in emotions:
            for k in range(int(rng.integers(1, 5))):
                out.append(Record(f"/u/{s}/{e}{k}.wav", str(e), str(e), f"mine:{s}", "mine", gender))
    return out


RECORD_SETS = {
    "ravdess18": lambda seed: make_records(18),
    "ravdess24": lambda seed: make_records(24, clips=1),
    "uneven": uneven_records,
    "two_corpora": lambda seed: make_records(10) + make_records(2, corpus="tess", gender="female"),
}


def _assert_partition(split, records):
    parts = split.parts()
    assert all(parts[p] for p in ("train", "val", "test")), split.name
    together = [r.path for recs in parts.values() for r in recs]
    assert sorted(together) == sorted(r.path for r in records)  # nothing lost, nothing twice
    speakers = {p: {r.speaker for r in recs} for p, recs in parts.items()}
    if split.method != "random":
        assert not speakers["train"] & speakers["test"]
        assert not speakers["val"] & speakers["test"]
        if not split.val_from_train_speakers:
            assert not speakers["train"] & speakers["val"]


@pytest.mark.parametrize("name", sorted(RECORD_SETS))
@pytest.mark.parametrize("seed", [0, 1, 7, 42])
def test_speaker_methods_are_disjoint(name, seed):
    records = RECORD_SETS[name](seed)
    for method in ("speaker", "kfold", "loso"):
        kw = {"n_folds": 4} if method == "kfold" and name == "uneven" else {}
        for split in make_splits(records, method=method, seed=seed, **kw):
            _assert_partition(split, records)
            assert split.protocol()["speaker_independent"]


def test_speaker_split_sizes_and_gender_balance():
    split = speaker_split(make_records(18), seed=3)
    proto = split.protocol()
    assert [proto[p]["n_speakers"] for p in ("train", "val", "test")] == [11, 3, 4]
    genders = Counter(r.gender for r in split.test if r.emotion == "calm")
    assert genders["male"] == genders["female"]  # 4 test speakers: 2 + 2
    assert proto["method"] == "speaker" and proto["warning"] is None
    assert proto["test"]["classes"] == {e: 8 for e in EIGHT}


def test_stratification_follows_emotions_as_far_as_speakers_allow():
    # Half the speakers act only angry/happy, half only sad/neutral: a held-out part of two
    # speakers drawn at random misses two emotions about half of the time; stratified, never.
    records = (make_records(6, emotions=("angry", "happy"), gender=None)
               + make_records(6, emotions=("sad", "neutral"), gender=None, start=7))
    for seed in range(8):
        split = speaker_split(records, val_fraction=0.17, test_fraction=0.17, seed=seed)
        for part in (split.test, split.val):
            assert {r.emotion for r in part} == {"angry", "happy", "sad", "neutral"}


def test_splits_are_deterministic_given_the_seed():
    records = uneven_records(5)
    first = [s.protocol() for s in make_splits(records, method="kfold", n_folds=4, seed=11)]
    again = [s.protocol() for s in make_splits(records, method="kfold", n_folds=4, seed=11)]
    assert first == again
    draws = {tuple(speaker_split(records, seed=s).protocol()["test"]["speakers"]) for s in range(6)}
    assert len(draws) > 1


def test_kfold_tests_every_speaker_once():
    records = make_records(18)
    folds = speaker_kfold(records, n_folds=6, seed=0)
    assert [f.name for f in folds] == [f"fold-{i}" for i in range(1, 7)]
    tested = [s for f in folds for s in f.protocol()["test"]["speakers"]]
    assert sorted(tested) == sorted({r.speaker for r in records})  # each exactly once
    for f in folds:
        proto = f.protocol()
        assert proto["test"]["n_speakers"] == 3 and proto["val"]["n_speakers"] == 3
        assert not set(proto["val"]["speakers"]) & set(proto["test"]["speakers"])


def test_kfold_groups_balanced_by_gender():
    folds = speaker_kfold(make_records(24, clips=1), n_folds=6, seed=5)
    for f in folds:
        by_speaker = {r.speaker: r.gender for r in f.test}
        assert Counter(by_speaker.values()) == {"male": 2, "female": 2}


def test_kfold_needs_enough_speakers():
    with pytest.raises(DataError, match="loso"):
        speaker_kfold(make_records(5), n_folds=6)
    with pytest.raises(ParameterError, match="n_folds"):
        speaker_kfold(make_records(5), n_folds=1)


def test_loso_with_two_speakers_validates_on_the_training_speaker():
    records = make_records(2, corpus="tess", gender="female", clips=10)
    splits = leave_one_speaker_out(records, val_fraction=0.2, seed=0)
    assert [s.name for s in splits] == ["loso-tess-01", "loso-tess-02"]
    for split in splits:
        proto = split.protocol()
        assert proto["val_from_train_speakers"] and "training speaker" in proto["warning"]
        assert proto["test"]["n_speakers"] == 1
        assert proto["train"]["speakers"] == proto["val"]["speakers"] != proto["test"]["speakers"]
        # Stratified: 2 of each emotion's 10 clips go to validation.
        assert proto["val"]["classes"] == {e: 2 for e in EIGHT}
        _assert_partition(split, records)


def test_loso_with_more_speakers_takes_val_from_non_test_speakers():
    splits = leave_one_speaker_out(make_records(6), seed=1)
    assert len(splits) == 6
    for split in splits:
        proto = split.protocol()
        assert not proto["val_from_train_speakers"] and proto["warning"] is None
        assert proto["test"]["n_speakers"] == 1 and proto["val"]["n_speakers"] == 1


def test_random_split_warns_and_stratifies():
    records = make_records(4, clips=10)
    split = random_split(records, val_fraction=0.1, test_fraction=0.2, seed=0)
    proto = split.protocol()
    assert proto["warning"] == RANDOM_SPLIT_WARNING
    assert proto["speaker_independent"] is False
    assert proto["test"]["classes"] == {e: 8 for e in EIGHT}  # 20 % of 40 per emotion
    assert proto["val"]["classes"] == {e: 4 for e in EIGHT}
    _assert_partition(split, records)
    # The same draw whatever order the records come in.
    again = random_split(records[::-1], val_fraction=0.1, test_fraction=0.2, seed=0)
    assert {r.path for r in again.test} == {r.path for r in split.test}


def test_unknown_speakers_cannot_be_split_by_speaker():
    records = [Record(f"/f/{e}/{k}.wav", e, e, "folder:unknown", "folder")
               for e in ("angry", "sad") for k in range(10)]
    for method in ("speaker", "kfold", "loso"):
        with pytest.raises(DataError, match=r"speaker pattern.*--split random"):
            make_splits(records, method=method)
    (split,) = make_splits(records, method="random", seed=0)  # allowed, flagged
    assert split.protocol()["warning"] == RANDOM_SPLIT_WARNING


def test_bad_arguments():
    with pytest.raises(ParameterError, match=r"'holdout'.*speaker.*kfold.*loso.*random"):
        make_splits(make_records(4), method="holdout")
    with pytest.raises(DataError, match="loso"):
        speaker_split(make_records(2))
    with pytest.raises(ParameterError, match="test_fraction=1.5"):
        speaker_split(make_records(4), test_fraction=1.5)
    with pytest.raises(DataError, match="no records"):
        speaker_split([])


def test_check_disjoint_catches_leaks():
    a, b, c = (make_records(1, start=s) for s in (1, 2, 3))
    check_disjoint(Split("ok", train=a, val=b, test=c))
    with pytest.raises(DataError, match=r"leak guard.*ravdess:01.*train and test"):
        check_disjoint(Split("speaker-leak", train=a, val=b, test=c + a[:1]))
    mixed = a[::2] + b[::2] + c[::2]
    with pytest.raises(DataError, match=r"file\(s\) in both train and val"):
        check_disjoint(Split("path-leak", train=mixed, val=mixed[:1], test=a[1::2], method="random"))
    # Random splits share speakers by design; only files are checked.
    check_disjoint(Split("random", train=a[::2], val=a[1::4], test=a[3::4], method="random"))


def test_splits_from_config_rebuilds_the_runs_splits_and_only_folds():
    from ser_tf.data.splits import make_splits, splits_from_config
    from ser_tf.errors import ConfigError
    from ser_tf.settings import DataConfig

    records = make_records(12)
    data = DataConfig(split="kfold", n_folds=4, only_folds=[2, 4])
    picked = splits_from_config(records, data=data, seed=3)
    every = make_splits(records, method="kfold", n_folds=4, val_fraction=0.15, seed=3)
    assert [s.name for s in picked] == [every[1].name, every[3].name]
    assert [r.path for r in picked[0].test] == [r.path for r in every[1].test]
    with pytest.raises(ConfigError, match=r"data.only_folds \[5\].*1..4"):
        splits_from_config(records, data=DataConfig(split="kfold", n_folds=4, only_folds=[5]), seed=3)


@pytest.mark.parametrize("n_speakers, n_val", [(24, 4), (18, 3), (4, 1), (2, 1)])
def test_test_fraction_zero_gives_a_final_split_without_test_speakers(n_speakers, n_val):
    records = make_records(n_speakers, clips=1)
    split = speaker_split(records, val_fraction=0.15, test_fraction=0, seed=5)
    assert split.name == "final" and not split.has_test and split.test == []
    speakers = {p: {r.speaker for r in recs} for p, recs in split.parts().items()}
    assert not speakers["train"] & speakers["val"]
    assert speakers["train"] | speakers["val"] == {r.speaker for r in records}  # everyone trains or validates
    assert sorted(r.path for r in split.train + split.val) == sorted(r.path for r in records)
    proto = split.protocol()
    assert [proto[p]["n_speakers"] for p in ("train", "val", "test")] == [n_speakers - n_val, n_val, 0]
    assert proto["final_model"] is True and proto["description"] == FINAL_MODEL_NOTE
    assert proto["speaker_independent"] and proto["warning"] is None
    # the same through the config path; 0 < test_fraction < 1 is untouched
    (again,) = make_splits(records, method="speaker", test_fraction=0.0, seed=5)
    assert again.val == split.val
    if n_speakers >= 3:
        holdout = speaker_split(records, seed=5)
        assert holdout.name == "holdout" and holdout.has_test and "final_model" not in holdout.protocol()


def test_test_fraction_zero_is_for_the_speaker_split_only():
    records = make_records(6)
    for bad in (-0.1, 1, 1.0, True, "0"):
        with pytest.raises(ParameterError, match=f"test_fraction={bad!r}"):
            speaker_split(records, test_fraction=bad)
    with pytest.raises(ParameterError, match="val_fraction=0"):
        speaker_split(records, val_fraction=0, test_fraction=0)
    with pytest.raises(ParameterError, match="test_fraction=0.*split 'speaker' only"):
        random_split(records, test_fraction=0)
    with pytest.raises(DataError, match="at least 2 speakers"):
        speaker_split(make_records(1), test_fraction=0)
    for method in ("kfold", "loso"):  # they have test speakers by design and ignore test_fraction
        splits = make_splits(records, method=method, n_folds=3, test_fraction=0, seed=0)
        assert all(s.has_test for s in splits)
