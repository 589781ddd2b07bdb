"""A plain-text (or JSON) account of a ``DataBundle`` and its splits, for ``python -m ser_tf.data``.

It answers, in a screen or two: what was found (per corpus, emotion and speaker), what was left
out and why (skipped files grouped by reason, duplicates, identical clips whose labels disagree,
label-set drops), which classes a model
would get, and which speakers land in train, validation and test of each split.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence

from ser_tf.data.manifest import DUPLICATE_CONTENT, DUPLICATE_PATH, LABEL_CONFLICT, LABEL_DROP, DataBundle
from ser_tf.data.records import Record
from ser_tf.data.splits import PARTS, Split

MAX_EXAMPLES = 3
# More splits than this are listed one line each.
MAX_DETAILED_SPLITS = 6
DEMO_BANNER = (
    "*** DEMO DATA: the built-in synthetic corpus, not real emotional speech. ***\n"
    "*** Pass --data corpus=PATH (e.g. ravdess=/data/ravdess) for real data.  ***"
)


def compact_speakers(speakers: Sequence[str], *, max_items: int = 12) -> str:
    """``"ravdess 01-04,07 | tess OAF,YAF"``: speaker ids per corpus, numeric runs collapsed."""
    by_corpus = defaultdict(list)
    for s in speakers:
        corpus, _, ident = s.rpartition(":")
        by_corpus[corpus].append(ident)
    parts = []
    for corpus in sorted(by_corpus):
        ids = sorted(set(by_corpus[corpus]))
        items = _runs(ids) if all(i.isdigit() for i in ids) else ids
        if len(items) > max_items:
            items = items[:max_items] + [f"... ({len(ids)} in all)"]
        parts.append(f"{corpus} {','.join(items)}".strip())
    return " | ".join(parts)


def _runs(ids: List[str]) -> List[str]:
    """Numeric ids as runs: ``["01", "02", "03", "07"] -> ["01-03", "07"]`` (padding kept)."""
    ids = sorted(ids, key=int)
    runs, start = [], 0
    for k in range(1, len(ids) + 1):
        if k == len(ids) or int(ids[k]) != int(ids[k - 1]) + 1:
            runs.append(ids[start] if k - 1 == start else f"{ids[start]}-{ids[k - 1]}")
            start = k
    return runs


def _abbreviations(classes: Sequence[str]) -> Dict[str, str]:
    """Shortest common prefix length (>= 3) that tells every class apart."""
    for n in range(3, max(map(len, classes), default=3) + 1):
        short = {c: c[:n] for c in classes}
        if len(set(short.values())) == len(classes):
            return short
    return {c: c for c in classes}


def _table(rows: List[List[str]], *, left: Sequence[int] = (0,), indent: str = "  ") -> List[str]:
    """Aligned columns: those in ``left`` flush left, the others (numbers) flush right."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    return [
        indent
        + "  ".join(
            cell.ljust(w) if j in left else cell.rjust(w)
            for j, (cell, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _genders(records: Sequence[Record]) -> str:
    by_speaker = {r.speaker: r.gender or "unknown" for r in records}
    counts = Counter(by_speaker.values())
    return ", ".join(f"{n} {g}" for g, n in sorted(counts.items()))


def _reason_group(reason: str) -> str:
    # Decoder messages embed details (byte offsets, codes) that would split one cause into many
    # groups; keep the text before the first parenthesis or colon-detail.
    return re.split(r" \(|: ", reason, maxsplit=1)[0].strip() or reason


def summarize(bundle: DataBundle, splits: Optional[Sequence[Split]] = None) -> str:
    """The readable report of ``bundle`` (and of ``splits`` when given)."""
    lines: List[str] = []
    if bundle.is_demo:
        lines += [DEMO_BANNER, ""]
    records = bundle.records
    classes = list(bundle.label_set.classes)
    short = _abbreviations(classes)
    corpora = list(dict.fromkeys(r.corpus for r in records))
    speakers = {r.speaker for r in records}
    total_s = sum(bundle.durations.values())
    lines.append(
        f"Data: {len(records)} clips, {len(speakers)} speakers, {len(corpora)} "
        + ("corpus" if len(corpora) == 1 else "corpora")
        + (f", {_hours(total_s)}" if total_s else "")
    )
    for corpus in corpora:
        recs = [r for r in records if r.corpus == corpus]
        per_speaker = Counter(r.speaker for r in recs)
        seconds = sum(bundle.durations.get(r.path, 0.0) for r in recs)
        counts = sorted(per_speaker.values())
        lines.append(
            f"  {corpus}: {bundle.roots.get(corpus, '?')}\n"
            f"    {len(recs)} clips" + (f" ({_hours(seconds)})" if seconds else "")
            + f", {len(per_speaker)} speakers ({_genders(recs)}): "
            f"{compact_speakers(sorted(per_speaker))}\n"
            f"    clips per speaker: min {counts[0]}, median {statistics.median(counts):g}, "
            f"max {counts[-1]}"
        )
    lines.append("")
    lines.append(
        f"Label set: {bundle.label_set.name} ({len(classes)} classes): " + ", ".join(classes)
    )
    rows = [["emotion", *corpora] + (["total"] if len(corpora) > 1 else [])]
    by = Counter((r.emotion, r.corpus) for r in records)
    for c in classes:
        row = [str(by[c, k]) for k in corpora]
        rows.append([c, *row] + ([str(sum(by[c, k] for k in corpora))] if len(corpora) > 1 else []))
    lines += ["Clips per emotion:", *_table(rows)]

    label_drops = bundle.label_drops()
    if label_drops:
        lines.append(
            f"Dropped by the label set: {sum(label_drops.values())} clips ("
            + ", ".join(f"{e} {n}" for e, n in label_drops.most_common()) + ")"
        )
    other = {k: n for k, n in bundle.dropped.items() if not k.startswith(LABEL_DROP)}
    if other:
        names = {DUPLICATE_PATH: "same file twice", DUPLICATE_CONTENT: "byte-identical copy",
                 LABEL_CONFLICT: "identical copies with different labels"}
        lines.append(
            "Dropped otherwise: "
            + "; ".join(f"{names.get(k, k)}: {n}" for k, n in sorted(other.items()))
        )
        for dup, kept, kind in bundle.duplicates[:MAX_EXAMPLES]:
            lines.append(f"    {dup}  = {kept}")
    lines += _conflict_lines(bundle)
    lines += _skipped_lines(bundle.skipped)
    if splits:
        lines += [""] + _split_lines(splits, classes, short)
    return "\n".join(lines)


def _conflict_lines(bundle: DataBundle) -> List[str]:
    """Every set of identical clips whose labels disagree, with its paths and labels: the labels
    need a person's look, so none is left out."""
    if not bundle.conflicts:
        return []
    copies = sum(len(clips) for _, clips in bundle.conflicts)
    action = ("all dropped" if bundle.on_label_conflict == "drop"
              else "the first of each kept (--on-label-conflict keep-first)")
    lines = [f"Label conflicts: {len(bundle.conflicts)} set(s) of identical clips ({copies} files) "
             f"with different labels, {action}:"]
    for kind, clips in bundle.conflicts:
        lines.append("    " + "  = ".join(f"{path} ({emotion})" for path, emotion in clips)
                     + ("" if kind == "content" else "  (the same file)"))
    return lines


def _group_skipped(skipped) -> List[tuple]:
    """``[(cause, [(path, full reason), ...]), ...]``, the most frequent cause first."""
    groups = defaultdict(list)
    for path, reason in skipped:
        groups[_reason_group(reason)].append((path, reason))
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def _skipped_lines(skipped) -> List[str]:
    if not skipped:
        return ["Skipped files: none"]
    lines = [f"Skipped files: {len(skipped)}"]
    for reason, items in _group_skipped(skipped):
        lines.append(f"  {len(items)} x {reason}")
        for path, full in items[:MAX_EXAMPLES]:
            lines.append(f"      {path}" + (f"  ({full})" if full != reason else ""))
        if len(items) > MAX_EXAMPLES:
            lines.append(f"      ... and {len(items) - MAX_EXAMPLES} more")
    return lines


def _split_lines(splits: Sequence[Split], classes, short) -> List[str]:
    protocols = [s.protocol() for s in splits]
    first = protocols[0]
    kind = "speaker-independent" if first["speaker_independent"] else "NOT speaker-independent"
    lines = [f"Splits: {first['method']}, {len(splits)} split(s), {kind}, seed {first['seed']}"]
    lines += [f"  WARNING: {w}" for w in sorted({p["warning"] for p in protocols} - {None})]
    genders = {r.speaker: r.gender for s in splits[:1] for recs in s.parts().values() for r in recs}
    if len(splits) > MAX_DETAILED_SPLITS:
        # Many splits (leave-one-speaker-out on a large corpus): one line each, to fit a screen.
        rows = [["split", "train", "val", "test", "test speakers", "val speakers"]]
        for p in protocols:
            rows.append([
                p["name"], *(f"{p[part]['n_clips']}/{p[part]['n_speakers']}" for part in PARTS),
                compact_speakers(p["test"]["speakers"], max_items=4),
                compact_speakers(p["val"]["speakers"], max_items=4),
            ])
        lines.append("  clips/speakers per part (per-emotion counts: --json)")
        lines += _table(rows, left=(0, 4, 5))
        return lines
    lines.append("  columns: " + ", ".join(f"{short[c]}={c}" for c in classes if short[c] != c))
    for p in protocols:
        rows = [[p["name"], "clips", "spk", *(short[c] for c in classes)]]
        for part in PARTS:
            q = p[part]
            rows.append([part, str(q["n_clips"]), str(q["n_speakers"]),
                         *(str(q["classes"].get(c, 0)) for c in classes)])
        lines += _table(rows)
        for part in ("test", "val"):
            spk = p[part]["speakers"]
            sex = Counter(genders.get(s) or "unknown" for s in spk)
            lines.append(f"    {part} speakers: {compact_speakers(spk)} ("
                         + ", ".join(f"{n} {g}" for g, n in sorted(sex.items())) + ")")
    return lines


def conflicts_line(bundle: DataBundle) -> str:
    """One line for a run's report: what was done with the label conflicts, and each set."""
    copies = sum(len(clips) for _, clips in bundle.conflicts)
    sets = "; ".join(" = ".join(f"`{path}` ({emotion})" for path, emotion in clips)
                     for _, clips in bundle.conflicts)
    action = "all dropped" if bundle.on_label_conflict == "drop" else "the first of each kept"
    return f"{len(bundle.conflicts)} set(s) of identical clips ({copies} files), {action}: {sets}"


def skipped_line(bundle: DataBundle) -> str:
    """One line for a run's report: how many files were left out as unusable, and why (grouped
    by cause, most frequent first, with the count of each)."""
    causes = "; ".join(f"{len(items)} x {reason}" for reason, items in _group_skipped(bundle.skipped))
    return f"{len(bundle.skipped)} file(s) not used: {causes} (each named in the run's config.yaml)"


def conflicts_dict(bundle: DataBundle) -> dict:
    """The label conflicts, JSON-friendly: what was done and every set's paths and labels."""
    return {
        "action": bundle.on_label_conflict,
        "sets": [{"kind": kind, "clips": [{"path": p, "emotion": e} for p, e in clips]}
                 for kind, clips in bundle.conflicts],
    }


def summary_dict(bundle: DataBundle, splits: Optional[Sequence[Split]] = None) -> dict:
    """The same content as ``summarize``, JSON-friendly (for ``--json`` and run folders)."""
    records = bundle.records
    corpora = {}
    for corpus in dict.fromkeys(r.corpus for r in records):
        recs = [r for r in records if r.corpus == corpus]
        emotions = Counter(r.emotion for r in recs)
        corpora[corpus] = {
            "root": bundle.roots.get(corpus),
            "n_clips": len(recs),
            "seconds": round(sum(bundle.durations.get(r.path, 0.0) for r in recs), 3),
            "speakers": dict(sorted(Counter(r.speaker for r in recs).items())),
            "emotions": {c: emotions[c] for c in bundle.label_set.classes if emotions[c]},
        }
    return {
        "is_demo": bundle.is_demo,
        "n_clips": len(records),
        "n_speakers": len({r.speaker for r in records}),
        "label_set": {"name": bundle.label_set.name, "classes": list(bundle.label_set.classes)},
        "corpora": corpora,
        "skipped": [{"path": p, "reason": why} for p, why in bundle.skipped],
        "dropped": dict(bundle.dropped),
        "duplicates": [{"path": a, "same_as": b, "kind": k} for a, b, k in bundle.duplicates],
        "label_conflicts": conflicts_dict(bundle),
        "splits": [s.protocol() for s in splits or ()],
    }
