"""Train / validation / test splits that keep speakers apart.

Split first, then everything else: oversampling, augmentation, normalisation statistics and model
selection all happen inside the training (or validation) part of a split made here, so that no
speaker's voice is learned in training and then "recognised" at test time.

Methods (``make_splits(method=...)``):

- ``speaker``: one hold-out split over disjoint speakers (``val_fraction`` / ``test_fraction`` of
  the speakers), stratified on emotion as far as the speakers allow and proportional per
  (corpus, gender) stratum. ``test_fraction=0`` gives a *final-model* split named ``"final"``:
  every speaker trains except the validation speakers, and there is no test part (the model's
  figures come from a separate k-fold run).
- ``kfold``: ``n_folds`` folds over speaker groups; every speaker is tested exactly once, groups
  are balanced by gender, and each fold's validation speakers come from its non-test speakers.
- ``loso``: leave one speaker out. With only two speakers (TESS) the validation clips must come
  from the training speaker: they are a stratified subset of that speaker's clips, and the
  protocol says so (``val_from_train_speakers`` and a warning). The test speaker is still unseen.
- ``random``: clip-level split, only on explicit request; speakers overlap, so the protocol
  carries a warning that the figures are optimistic.

Every function calls ``check_disjoint`` before returning, and all are deterministic given ``seed``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

import numpy as np

from ser_tf.data.records import UNKNOWN_SPEAKER, Record, speakers_of
from ser_tf.data.speaker_selection import (
    _class_order,
    _deal_folds,
    _largest_remainder,
    _pick,
    _Speakers,
)
from ser_tf.errors import ConfigError, DataError, ParameterError
from ser_tf.runs import fold_name  # a fold split and its run folder share the name

if TYPE_CHECKING:
    from ser_tf.settings import DataConfig

METHODS = ("speaker", "kfold", "loso", "random")
PARTS = ("train", "val", "test")
RANDOM_SPLIT_WARNING = "speakers overlap between splits; figures are optimistic"
TWO_SPEAKER_WARNING = (
    "only 2 speakers: validation clips are a stratified subset of the training speaker's clips, "
    "so early stopping and checkpoint choice are speaker-dependent; the test speaker is unseen"
)
FINAL_SPLIT_NAME = "final"
FINAL_MODEL_NOTE = (
    "no test speakers: a final model; see the cross-validation run for its figures"
)


@dataclasses.dataclass
class Split:
    """One train / validation / test partition of the records.

    Attributes:
        name: ``"holdout"``, ``"final"``, ``"fold-3"``, ``"loso-ravdess-07"`` or ``"random"``.
        train, val, test: lists of ``Record``, in the order of the records given; ``test`` is
            empty for a final-model split (``has_test`` is then False).
        method: one of ``METHODS``.
        seed: the seed it was drawn with.
        val_from_train_speakers: validation clips share speakers with training (two-speaker LOSO).
    """

    name: str
    train: List[Record]
    val: List[Record]
    test: List[Record]
    method: str = "speaker"
    seed: Optional[int] = None
    val_from_train_speakers: bool = False

    @property
    def speaker_independent(self) -> bool:
        """True when the test speakers never occur in training (all methods but ``random``)."""
        return self.method != "random"

    @property
    def has_test(self) -> bool:
        """False for a final-model split (``test_fraction=0``): nothing to score, no test metrics."""
        return bool(self.test)

    def parts(self) -> Dict[str, List[Record]]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def protocol(self) -> dict:
        """A JSON-friendly description for reports: method, leak flags, and per-part counts."""
        warning = None
        if self.method == "random":
            warning = RANDOM_SPLIT_WARNING
        elif self.val_from_train_speakers:
            warning = TWO_SPEAKER_WARNING
        out = {
            "name": self.name,
            "method": self.method,
            "seed": self.seed,
            "speaker_independent": self.speaker_independent,
            "val_from_train_speakers": self.val_from_train_speakers,
            "warning": warning,
        }
        out.update({part: describe(records) for part, records in self.parts().items()})
        if not self.has_test:
            out.update(final_model=True, description=FINAL_MODEL_NOTE)
        return out


def describe(records: Sequence[Record]) -> dict:
    """``{"n_clips", "n_speakers", "speakers", "classes"}`` of a list of records."""
    counts = Counter(r.emotion for r in records)
    speakers = speakers_of(records)
    return {
        "n_clips": len(records),
        "n_speakers": len(speakers),
        "speakers": speakers,
        "classes": {e: counts[e] for e in _class_order(counts)},
    }


def check_disjoint(split: Split) -> None:
    """Leak guard: no source file, and (unless random) no speaker, in two parts of ``split``.

    The one allowed overlap is train/val speakers of a two-speaker LOSO split
    (``split.val_from_train_speakers``); test speakers are always checked.

    Raises:
        DataError: names the parts and a few of the shared speakers or files.
    """
    parts = split.parts()
    paths = {p: {os.path.normpath(r.path) for r in recs} for p, recs in parts.items()}
    speakers = {p: {r.speaker for r in recs} for p, recs in parts.items()}
    problems = []
    for a, b in itertools.combinations(PARTS, 2):
        shared = sorted(paths[a] & paths[b])
        if shared:
            problems.append(f"{len(shared)} file(s) in both {a} and {b}, e.g. {shared[:3]}")
        if split.method == "random":
            continue
        if split.val_from_train_speakers and {a, b} == {"train", "val"}:
            continue
        shared = sorted(speakers[a] & speakers[b])
        if shared:
            problems.append(f"speaker(s) {shared[:5]} in both {a} and {b}")
    if problems:
        raise DataError(
            f"leak guard: split {split.name!r} ({split.method}) is not disjoint: "
            + "; ".join(problems)
        )


# --------------------------------------------------------------------------------------------
# Split functions


def speaker_split(
    records: Sequence[Record],
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 42,
) -> Split:
    """One speaker-independent hold-out split.

    Args:
        records: the clips, every one with a known speaker.
        val_fraction: share of the *speakers* held out for validation, in (0, 1); at least one.
        test_fraction: share of the speakers held out for testing, in (0, 1); at least one. ``0``
            makes a final-model split: no test speakers, everyone but the validation speakers
            trains (for a model to ship; its figures come from a separate k-fold run).
        seed: seed of the speaker draw.

    Returns:
        ``Split`` named ``"holdout"``. 18 speakers give 4 test, 3 validation, 11 training speakers.
        With ``test_fraction=0`` it is named ``"final"``: 24 speakers give 4 validation (at
        ``val_fraction=0.15``) and 20 training speakers, and ``test`` is empty.

    Raises:
        DataError: no records, unknown speakers, or fewer than 3 speakers (use ``loso``); a final
            split needs 2.
        ParameterError: fractions out of range.
    """
    records = _check_speakers(records, "speaker")
    if _is_zero(test_fraction):
        return _final_split(records, val_fraction=val_fraction, seed=seed)
    _check_fractions(val_fraction=val_fraction, test_fraction=test_fraction)
    spk = _Speakers(records)
    n = len(spk)
    if n < 3:
        raise DataError(
            f"a speaker split needs at least 3 speakers (one each for train, val and test), but "
            f"the data has {n}: {spk.names}; use split 'loso' (leave one speaker out) instead"
        )
    n_test = max(1, _round(test_fraction * n))
    n_val = max(1, _round(val_fraction * n))
    while n_test + n_val > n - 1:  # keep at least one training speaker
        if n_test >= n_val and n_test > 1:
            n_test -= 1
        else:
            n_val -= 1
    rng = np.random.default_rng(seed)
    test = _pick(spk, range(n), n_test, rng)
    val = _pick(spk, [i for i in range(n) if i not in test], n_val, rng)
    return _assemble("holdout", records, spk, test=test, val=val, method="speaker", seed=seed)


def _final_split(records: List[Record], *, val_fraction: float, seed: int) -> Split:
    """``speaker_split`` with ``test_fraction=0``: validation speakers and training speakers only."""
    _check_fractions(val_fraction=val_fraction)
    spk = _Speakers(records)
    n = len(spk)
    if n < 2:
        raise DataError(
            f"a final-model speaker split (test_fraction=0) needs at least 2 speakers (one each "
            f"for train and val), but the data has {n}: {spk.names}"
        )
    n_val = min(max(1, _round(val_fraction * n)), n - 1)  # keep at least one training speaker
    val = _pick(spk, range(n), n_val, np.random.default_rng(seed))
    return _assemble(FINAL_SPLIT_NAME, records, spk, test=[], val=val, method="speaker", seed=seed)


def speaker_kfold(
    records: Sequence[Record], *, n_folds: int = 6, val_fraction: float = 0.15, seed: int = 42
) -> List[Split]:
    """Cross-validation over speaker groups: every speaker is tested exactly once.

    Args:
        records: the clips, every one with a known speaker.
        n_folds: number of folds, >= 2 and at most the number of speakers. RAVDESS's 24 actors
            give 6 folds of 4 actors; 18 actors give 6 folds of 3.
        val_fraction: share of all speakers used for validation inside each fold (at least one),
            always drawn from that fold's non-test speakers.
        seed: seed of the fold and validation draws.

    Returns:
        ``n_folds`` splits named ``"fold-1"`` ... ``"fold-N"``.

    Raises:
        DataError: no records, unknown speakers, or too few speakers for ``n_folds``.
        ParameterError: ``n_folds`` < 2 or ``val_fraction`` out of range.
    """
    records = _check_speakers(records, "kfold")
    _check_fractions(val_fraction=val_fraction)
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise ParameterError(f"n_folds={n_folds!r}: expected an integer >= 2")
    spk = _Speakers(records)
    n = len(spk)
    if n < n_folds or n - math.ceil(n / n_folds) < 2:
        raise DataError(
            f"{n_folds}-fold speaker cross-validation needs at least {max(n_folds, 3)} speakers "
            f"and two non-test speakers per fold (train and val), but the data has {n}: "
            f"{spk.names}; use fewer folds or split 'loso'"
        )
    rng = np.random.default_rng(seed)
    splits = []
    for f, test in enumerate(_deal_folds(spk, n_folds, rng)):
        rest = [i for i in range(n) if i not in test]
        n_val = min(max(1, _round(val_fraction * n)), len(rest) - 1)
        val = _pick(spk, rest, n_val, rng)
        splits.append(
            _assemble(fold_name(f + 1), records, spk, test=test, val=val, method="kfold", seed=seed)
        )
    return splits


def leave_one_speaker_out(
    records: Sequence[Record], *, val_fraction: float = 0.15, seed: int = 42
) -> List[Split]:
    """One split per speaker, testing on that speaker alone.

    With 3 or more speakers, validation speakers (``val_fraction`` of all speakers, at least one)
    are drawn from the other speakers. With exactly 2 speakers (TESS) there is nobody left to
    validate on, so validation is a stratified ``val_fraction`` of the *training speaker's* clips;
    such splits set ``val_from_train_speakers`` and their protocol carries a warning.

    Returns:
        one split per speaker, in speaker order, named ``"loso-<corpus>-<id>"``.

    Raises:
        DataError: no records, unknown speakers, or a single speaker.
        ParameterError: ``val_fraction`` out of range.
    """
    records = _check_speakers(records, "loso")
    _check_fractions(val_fraction=val_fraction)
    spk = _Speakers(records)
    n = len(spk)
    if n < 2:
        raise DataError(
            f"leave-one-speaker-out needs at least 2 speakers; the data has {spk.names}"
        )
    rng = np.random.default_rng(seed)
    splits = []
    for i, speaker in enumerate(spk.names):
        name = "loso-" + speaker.replace(":", "-")
        rest = [j for j in range(n) if j != i]
        if n >= 3:
            val = _pick(spk, rest, min(max(1, _round(val_fraction * n)), len(rest) - 1), rng)
            splits.append(
                _assemble(name, records, spk, test=[i], val=val, method="loso", seed=seed)
            )
            continue
        others = [r for r in records if r.speaker != speaker]
        val_idx = set(_stratified_take([r.emotion for r in others], val_fraction, rng))
        if not val_idx or len(val_idx) == len(others):
            raise DataError(
                f"speaker {spk.names[1 - i]!r} has too few clips ({len(others)}) to set "
                f"val_fraction={val_fraction} of them aside for validation"
            )
        split = Split(
            name,
            train=[r for k, r in enumerate(others) if k not in val_idx],
            val=[r for k, r in enumerate(others) if k in val_idx],
            test=[r for r in records if r.speaker == speaker],
            method="loso",
            seed=seed,
            val_from_train_speakers=True,
        )
        check_disjoint(split)
        splits.append(split)
    return splits


def random_split(
    records: Sequence[Record],
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 42,
    stratify: bool = True,
) -> Split:
    """Clip-level random split: only when explicitly asked for.

    The same speaker ends up in train and test, so scores measure recognising known voices and
    are optimistic; the protocol says so. Works with unknown speakers.

    Args:
        val_fraction, test_fraction: shares of the *clips*, per emotion when ``stratify``.
        stratify: keep each emotion's share equal across parts.

    Raises:
        DataError: fewer than 3 clips.
    """
    records = _check_nonempty(records)
    if _is_zero(test_fraction):
        raise ParameterError(
            f"test_fraction={test_fraction!r}: a split without test part (a final model) is made "
            "by split 'speaker' only; a random split needs a fraction strictly between 0 and 1"
        )
    _check_fractions(val_fraction=val_fraction, test_fraction=test_fraction)
    rng = np.random.default_rng(seed)
    # Draw on the path order, so the split does not depend on the order records were given in.
    order = sorted(range(len(records)), key=lambda k: records[k].path)
    groups = defaultdict(list)
    for k in order:
        groups[records[k].emotion if stratify else ""].append(k)
    n = len(records)
    if n < 3:
        raise DataError(f"{n} clip(s) are too few for a random split (train, val, test)")
    n_test = max(1, _round(test_fraction * n))
    n_val = max(1, min(_round(val_fraction * n), n - n_test - 1))
    n_test = min(n_test, n - n_val - 1)
    # Totals first, then each class's share by largest remainder: per-class rounding alone would
    # leave validation empty when every class is small.
    keys = sorted(groups)
    sizes = np.array([len(groups[k]) for k in keys], dtype=float)
    test_alloc = _largest_remainder(n_test * sizes / n, n_test)
    rest = sizes - test_alloc
    val_alloc = _largest_remainder(n_val * rest / rest.sum(), n_val)
    test, val = set(), set()
    for key, t, v in zip(keys, test_alloc, val_alloc):
        members = [groups[key][j] for j in rng.permutation(len(groups[key]))]
        test.update(members[:t])
        val.update(members[t : t + v])
    split = Split(
        "random",
        train=[r for k, r in enumerate(records) if k not in test and k not in val],
        val=[r for k, r in enumerate(records) if k in val],
        test=[r for k, r in enumerate(records) if k in test],
        method="random",
        seed=seed,
    )
    check_disjoint(split)
    return split


def make_splits(
    records: Sequence[Record],
    *,
    method: str,
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    n_folds: int = 6,
    seed: int = 42,
    stratify: bool = True,
) -> List[Split]:
    """Split by name; arguments a method does not use are ignored (so a config passes them all).

    Args:
        method: ``"speaker"``, ``"kfold"``, ``"loso"`` or ``"random"``.

    Returns:
        a list of splits: one for ``speaker`` and ``random``, several for ``kfold`` and ``loso``.

    Raises:
        ParameterError: unknown method; DataError: see the individual functions.
    """
    if method == "speaker":
        return [
            speaker_split(
                records, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
            )
        ]
    if method == "kfold":
        return speaker_kfold(records, n_folds=n_folds, val_fraction=val_fraction, seed=seed)
    if method == "loso":
        return leave_one_speaker_out(records, val_fraction=val_fraction, seed=seed)
    if method == "random":
        return [
            random_split(
                records,
                val_fraction=val_fraction,
                test_fraction=test_fraction,
                seed=seed,
                stratify=stratify,
            )
        ]
    raise ParameterError(f"unknown split method {method!r}; expected one of {list(METHODS)}")


def splits_from_config(records: Sequence[Record], *, data: "DataConfig", seed: int) -> List[Split]:
    """The splits of a run, rebuilt from its config: the one place that reads a config for them.

    Args:
        records: the run's records (same corpora and label set give the same splits).
        data: the config's ``data`` section: ``split``, ``val_fraction``, ``test_fraction``,
            ``n_folds`` and ``only_folds`` (1-based fold numbers; None or empty = every fold).
        seed: the config's ``seed``.

    Raises:
        ConfigError: ``data.only_folds`` names a fold that does not exist.
        ParameterError, DataError: see :func:`make_splits`.
    """
    splits = make_splits(
        records, method=data.split, seed=seed, val_fraction=data.val_fraction,
        test_fraction=data.test_fraction, n_folds=data.n_folds,
    )
    if not data.only_folds:
        return splits
    bad = [n for n in data.only_folds if not 1 <= n <= len(splits)]
    if bad:
        raise ConfigError(f"data.only_folds {bad} out of range: there are folds 1..{len(splits)}")
    return [splits[n - 1] for n in data.only_folds]


# --------------------------------------------------------------------------------------------
# Helpers


def _round(x: float) -> int:
    """Round half up (Python's ``round`` rounds 2.5 to 2)."""
    return int(math.floor(x + 0.5))


def _stratified_take(labels: Sequence[str], fraction: float, rng: np.random.Generator) -> List[int]:
    """Indices of about ``fraction`` of each label's items; a label with one item keeps it out."""
    groups = defaultdict(list)
    for k, label in enumerate(labels):
        groups[label].append(k)
    taken = []
    for label in sorted(groups):
        members = groups[label]
        take = min(max(_round(fraction * len(members)), 1), len(members) - 1)
        taken.extend(members[j] for j in rng.permutation(len(members))[:take])
    return sorted(taken)


def _is_zero(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def _check_fractions(**fractions: float) -> None:
    for name, value in fractions.items():
        if not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
            raise ParameterError(f"{name}={value!r}: expected a fraction strictly between 0 and 1")
    if sum(fractions.values()) >= 1.0:
        raise ParameterError(f"{fractions} leave nothing for training; their sum must be below 1")


def _check_nonempty(records: Sequence[Record]) -> List[Record]:
    records = list(records)
    if not records:
        raise DataError("no records to split")
    return records


def _check_speakers(records: Sequence[Record], method: str) -> List[Record]:
    records = _check_nonempty(records)
    unknown = Counter(r.corpus for r in records if r.speaker.split(":")[-1] == UNKNOWN_SPEAKER)
    if unknown:
        raise DataError(
            f"{sum(unknown.values())} clip(s) have no speaker id (corpora {dict(unknown)}: speaker "
            f"'<corpus>:{UNKNOWN_SPEAKER}'), so a speaker-independent {method!r} split cannot "
            "place them; give the folder corpus a speaker pattern (speaker_pattern= / "
            "--speaker-pattern) or use --split random (its scores are optimistic)"
        )
    return records


def _assemble(name, records, spk, *, test, val, method, seed) -> Split:
    part_of = {spk.names[i]: "test" for i in test}
    part_of.update({spk.names[i]: "val" for i in val})
    parts = {p: [] for p in PARTS}
    for r in records:
        parts[part_of.get(r.speaker, "train")].append(r)
    split = Split(name, method=method, seed=seed, **parts)
    check_disjoint(split)
    return split
