"""The evaluation protocol of a report: checking it, spotting speaker overlap, rendering it.

A report states its protocol first, so a reader knows whether test voices were heard in
training before reading any number; :mod:`ser_tf.evaluation.report` builds on this module.

The ``protocol`` dict the report functions take (keys beyond ``method`` and
``speaker_independent`` are optional, and any other key is listed under "other settings"):

* ``method``: ``"speaker"`` | ``"kfold"`` | ``"loso"`` | ``"random"`` | ``"cross_corpus"`` | any
  other name (printed as given).
* ``speaker_independent``: True, False, or None when the corpus does not name its speakers.
* ``splits``: {split name: {``n_clips``, ``n_speakers``, optional ``speakers`` list, optional
  ``classes`` {emotion: clips}}}. ``ser_tf.data.splits.Split.protocol()`` puts ``train``,
  ``val`` and ``test`` at the top level instead; both forms are read. Given speaker lists, a
  speaker found in ``train`` and in an evaluation split is flagged whatever ``method`` says
  (``val`` is exempt when ``val_from_train_speakers`` says it shares them by design).
* ``folds``: for k-fold/LOSO, a list of such per-fold protocols (checked for overlap too).
* ``name``, ``warning``, ``val_from_train_speakers`` (from ``Split.protocol()``), ``label_set``,
  ``classes``, ``corpora``, ``seed``, ``n_folds``, ``description``, ``is_demo``.
* ``cross_corpus``: from :func:`ser_tf.evaluation.cross_corpus.cross_corpus_protocol`.
* ``skipped_files``: one line counting the files left out as unusable, by cause
  (``ser_tf.data.summary.skipped_line``); present only when there were some.
* ``label_conflicts``: one line on identical clips whose labels disagree and what was done with
  them (``ser_tf.data.summary.conflicts_line``); present only when there were some.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ser_tf.errors import ParameterError

__all__ = ["is_optimistic", "OPTIMISTIC_BANNER"]

_METHODS = {
    "speaker": "speaker-independent hold-out: whole speakers go to train, validation or test, "
               "so no test voice was heard in training",
    "kfold": "speaker-independent k-fold cross-validation: speakers are split into k groups; each "
             "fold tests on one group and trains on the others",
    "loso": "leave-one-speaker-out cross-validation: each fold tests on one speaker never heard "
            "in training",
    "random": "random clip-level split: clips are shuffled without regard to who speaks",
    "cross_corpus": "cross-corpus: the model is tested on a corpus it was not trained on",
}
_PARTS = ("train", "val", "test")
_KNOWN_KEYS = {"method", "speaker_independent", "splits", "label_set", "classes", "corpora",
               "seed", "n_folds", "description", "is_demo", "cross_corpus", "name", "warning",
               "val_from_train_speakers", "folds", "label_conflicts", "skipped_files", *_PARTS}

OPTIMISTIC_BANNER = ("**Optimistic: speakers overlap** between training and evaluation, so the "
                     "same voices are in both. Expect clearly lower scores on new speakers; use "
                     "`split: speaker`, `kfold` or `loso` for a number that generalises.")


# ---------------------------------------------------------------------------------------------
# Protocol


def _check_protocol(protocol) -> dict:
    if not isinstance(protocol, Mapping):
        raise ParameterError(f"protocol must be a dict, got {type(protocol).__name__}")
    missing = [k for k in ("method", "speaker_independent") if k not in protocol]
    if missing:
        raise ParameterError(
            f"protocol lacks {missing!r} (got keys {sorted(protocol)!r}); a report must say how "
            "the split was made and whether it is speaker-independent"
        )
    return dict(protocol)


def _splits_of(protocol: Mapping) -> dict:
    """Per-split counts, from ``splits`` or from top-level train/val/test (``Split.protocol()``)."""
    if protocol.get("splits"):
        return {name: split or {} for name, split in protocol["splits"].items()}
    return {k: protocol[k] for k in _PARTS if isinstance(protocol.get(k), Mapping)}


def _speaker_overlap(protocol: Mapping) -> list[str]:
    """Speakers listed in ``train`` and in an evaluation split, in the protocol or any fold."""
    shared = set()
    for part in [protocol, *(protocol.get("folds") or [])]:
        splits = _splits_of(part)
        train = set(splits.get("train", {}).get("speakers") or [])
        for name, split in splits.items():
            if name == "train" or (name == "val" and part.get("val_from_train_speakers")):
                continue  # two-speaker LOSO validates on training speakers, and says so
            shared |= train & set(split.get("speakers") or [])
    return sorted(shared)


def is_optimistic(protocol: Mapping) -> bool:
    """True when training and evaluation speakers may overlap (random split or listed overlap)."""
    return (protocol.get("method") == "random" or protocol.get("speaker_independent") is False
            or bool(_speaker_overlap(protocol)))


def _protocol_lines(protocol: Mapping, class_names: Sequence[str]) -> list[str]:
    method = protocol["method"]
    independent = protocol["speaker_independent"]
    lines = ["## Protocol", ""]
    if protocol.get("description"):
        lines += [str(protocol["description"]), ""]
    lines.append(f"- **Split:** `{method}`, {_METHODS.get(method, 'as named by the caller')}."
                 + (f" Split name: `{protocol['name']}`." if protocol.get("name") else ""))
    lines.append("- **Speaker-independent:** " + {True: "yes", False: "**no**"}.get(
        independent, "unknown (the corpus does not name its speakers)"))
    if protocol.get("n_folds"):
        lines.append(f"- **Folds:** {protocol['n_folds']}")
    label_set = protocol.get("label_set")
    lines.append(f"- **Label set:** {f'`{label_set}`, ' if label_set else ''}{len(class_names)} "
                 f"classes: {', '.join(class_names)}")
    corpora = protocol.get("corpora")
    lines.append(f"- **Corpora:** {', '.join(map(str, corpora)) if corpora else 'not stated'}")
    if protocol.get("seed") is not None:
        lines.append(f"- **Seed:** {protocol['seed']}")
    cross = protocol.get("cross_corpus")
    if cross:
        lines.append(f"- **Cross-corpus, shared classes scored:** "
                     f"{', '.join(cross.get('shared_classes', [])) or 'none'}")
        lines.append(f"- **Left out, model only** (no clip to score; their probability is "
                     f"removed and the rest renormalised): "
                     f"{', '.join(cross.get('model_only_classes', [])) or 'none'}")
        lines.append(f"- **Left out, data only** (clips dropped: "
                     f"{cross.get('n_clips_dropped', 0)}): "
                     f"{', '.join(cross.get('data_only_classes', [])) or 'none'}")
    if protocol.get("skipped_files"):
        lines.append(f"- **Skipped files** (unreadable or unusable): {protocol['skipped_files']}")
    if protocol.get("label_conflicts"):
        lines.append(f"- **Label conflicts** (identical audio, different labels): {protocol['label_conflicts']}")
    others = {k: v for k, v in protocol.items() if k not in _KNOWN_KEYS}
    for key, value in others.items():
        lines.append(f"- **{key}:** {value}")

    splits = _splits_of(protocol)
    if splits:
        lines += [""] + _table(["split", "clips", "speakers"], [
            [name, _fmt_int(split.get("n_clips")), _fmt_int(_n_speakers(split))]
            for name, split in splits.items()])[:-1]
        if all(isinstance(split.get("classes"), Mapping) for split in splits.values()):
            lines += ["", "Clips per class and split:", ""] + _table(
                ["class", *splits],
                [[c] + [split["classes"].get(c, 0) for split in splits.values()]
                 for c in class_names])[:-1]
    folds = [fold for fold in protocol.get("folds") or [] if isinstance(fold, Mapping)]
    if folds:
        rows = []
        for i, fold in enumerate(folds, 1):
            parts = _splits_of(fold)
            rows.append([i] + [f"{_fmt_int(parts.get(p, {}).get('n_clips'))} / "
                               f"{_fmt_int(_n_speakers(parts.get(p, {})))}" for p in _PARTS])
        lines += ["", "Clips / speakers per fold:", ""] + _table(
            ["fold", "train", "val", "test"], rows)[:-1]
    if protocol.get("warning") and method != "random":
        lines += ["", f"> **Split warning:** {protocol['warning']}"]
    overlap = _speaker_overlap(protocol)
    if is_optimistic(protocol):
        lines += ["", f"> {OPTIMISTIC_BANNER}"]
        if overlap:
            shown = ", ".join(overlap[:10]) + (" …" if len(overlap) > 10 else "")
            lines.append(f"> Speakers in training and evaluation: {shown} ({len(overlap)}).")
            if independent is True:
                lines.append("> The protocol claims speaker independence, but the split lists "
                             "contradict it.")
    return lines + [""]


# ---------------------------------------------------------------------------------------------
# Formatting (report.py renders its own tables with these too)


def _n_speakers(split: Mapping):
    return split.get("n_speakers", len(split.get("speakers") or []) or None)


def _fmt_int(value) -> str:
    return "—" if value is None else str(int(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    """A Markdown table: the first column left-aligned, the numbers right-aligned."""
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]
