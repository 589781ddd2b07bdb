"""Choosing held-out speakers balanced by corpus, gender and emotion mix.

The speaker-independent splits of :mod:`ser_tf.data.splits` hold out whole speakers. Which
ones matters: each (corpus, gender) stratum should get its proportional share of the held-out
speakers, and their clips should have about the pool's emotion mix. ``_pick`` chooses the
speakers of one held-out part, ``_deal_folds`` deals all speakers into k-fold test groups; both
compare many random draws from the caller's generator and keep the best, so they are deterministic
given its seed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Dict, List, Sequence

import numpy as np

from ser_tf.data.labels import CANONICAL_EMOTIONS
from ser_tf.data.records import Record, speakers_of

# Candidate speaker draws compared when choosing held-out speakers. The draws differ only in which
# speakers of each (corpus, gender) stratum are taken, so a couple of hundred is plenty.
_TRIALS = 200


class _Speakers:
    """Per-speaker class counts and (corpus, gender) strata of a record list."""

    def __init__(self, records: Sequence[Record]):
        self.names = speakers_of(records)
        index = {s: i for i, s in enumerate(self.names)}
        self.classes = _class_order({r.emotion for r in records})
        cls = {c: j for j, c in enumerate(self.classes)}
        self.counts = np.zeros((len(self.names), len(self.classes)))
        genders = defaultdict(Counter)
        corpora = {}
        for r in records:
            i = index[r.speaker]
            self.counts[i, cls[r.emotion]] += 1
            genders[i][r.gender or ""] += 1
            corpora[i] = r.corpus
        # Unknown gender is "~" so strata sort female < male < unknown; within a stratum speakers
        # keep name order.
        self.stratum = [
            (corpora[i], genders[i].most_common(1)[0][0] or "~") for i in range(len(self.names))
        ]

    def __len__(self) -> int:
        return len(self.names)

    def strata(self, pool: Sequence[int]) -> Dict[tuple, List[int]]:
        out = defaultdict(list)
        for i in sorted(pool):
            out[self.stratum[i]].append(i)
        return dict(sorted(out.items()))


def _score(counts: np.ndarray, target: np.ndarray, target_clips: float) -> float:
    """How far a held-out set's class counts are from the pool's (lower is better).

    L1 distance of the class distributions, plus one per class the pool has and the set lacks,
    plus half the relative deviation from the intended number of clips.
    """
    n = counts.sum()
    if n == 0:
        return math.inf
    l1 = np.abs(counts / n - target / target.sum()).sum()
    missing = np.count_nonzero((target > 0) & (counts == 0))
    return float(l1 + missing + 0.5 * abs(n - target_clips) / max(target_clips, 1.0))


def _largest_remainder(quotas: np.ndarray, total: int) -> np.ndarray:
    alloc = np.floor(quotas + 1e-9).astype(int)
    order = np.argsort(-(quotas - alloc), kind="stable")
    alloc[order[: total - alloc.sum()]] += 1
    return alloc


def _systematic(quotas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rounding of ``quotas`` to integers (each floor or ceil) that keeps their sum."""
    order = rng.permutation(len(quotas))
    cum = np.round(np.concatenate([[0.0], np.cumsum(quotas[order])]), 9)
    taken = np.diff(np.floor(cum + rng.random())).astype(int)
    alloc = np.empty_like(taken)
    alloc[order] = taken
    return alloc


def _pick(spk: _Speakers, pool: Sequence[int], n_pick: int, rng: np.random.Generator) -> List[int]:
    """Choose ``n_pick`` speakers of ``pool`` for a held-out part.

    Each (corpus, gender) stratum gets its proportional share, rounded down or up at random;
    among ``_TRIALS`` such draws the one whose emotion mix best matches the pool wins, with a
    penalty for a gender mix off by more than rounding (roundings can add up across corpora).
    """
    strata = spk.strata(pool)
    members = list(strata.values())
    sizes = np.array([len(m) for m in members], dtype=float)
    quotas = n_pick * sizes / sizes.sum()
    target = spk.counts[sorted(pool)].sum(axis=0)
    target_clips = target.sum() * n_pick / len(pool)
    known = [i for i in pool if spk.stratum[i][1] != "~"]
    female_share = sum(spk.stratum[i][1] == "female" for i in known) / max(len(known), 1)
    best, best_score = None, math.inf
    for trial in range(_TRIALS):
        alloc = _largest_remainder(quotas, n_pick) if trial == 0 else _systematic(quotas, rng)
        chosen = []
        for group, take in zip(members, alloc):
            chosen.extend(group[j] for j in rng.permutation(len(group))[:take])
        score = _score(spk.counts[chosen].sum(axis=0), target, target_clips)
        sexed = [spk.stratum[i][1] for i in chosen if spk.stratum[i][1] != "~"]
        off = abs(sexed.count("female") - female_share * len(sexed))
        score += max(0.0, off - 0.5)
        if score < best_score - 1e-12:
            best, best_score = sorted(chosen), score
    return best


def _deal_folds(spk: _Speakers, n_folds: int, rng: np.random.Generator) -> List[List[int]]:
    """Deal speakers into folds, stratum after stratum, so each fold mixes genders and corpora.

    Speakers are shuffled inside their stratum and dealt round-robin (fold sizes differ by at most
    one); among ``_TRIALS // 4`` shuffles the one with the most even emotion mix per fold wins.
    """
    groups = list(spk.strata(range(len(spk))).values())
    target = spk.counts.sum(axis=0)
    best, best_score = None, math.inf
    for _ in range(_TRIALS // 4):
        order = [g[j] for g in groups for j in rng.permutation(len(g))]
        folds = [sorted(order[f::n_folds]) for f in range(n_folds)]
        score = sum(
            _score(spk.counts[f].sum(axis=0), target, target.sum() * len(f) / len(spk))
            for f in folds
        )
        if score < best_score - 1e-12:
            best, best_score = folds, score
    return best


# Also orders the per-class counts of ``splits.describe``.
def _class_order(emotions) -> List[str]:
    """Canonical emotions first, in canonical order, then any others sorted."""
    emotions = set(emotions)
    known = [e for e in CANONICAL_EMOTIONS if e in emotions]
    return known + sorted(emotions - set(CANONICAL_EMOTIONS))
