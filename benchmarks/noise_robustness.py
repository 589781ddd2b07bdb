"""Noise robustness of a trained model, with and without ``denoise``, on its validation actors.

    python benchmarks/noise_robustness.py --model runs/NAME[/fold-K] \\
        [--data ravdess=../shared/data/ravdess-speech-16k] [--limit N] [--denoise-grid] \\
        [--out results.json] [--json PATH]
    python benchmarks/noise_robustness.py --quick     # an untrained tiny run on a demo corpus

Scores the model only on the run's *validation* actors (``resolved.splits.<split>.val`` of the
run's ``config.yaml``; a fold folder ``fold-K`` of a k-fold run takes its own split, a single-split
run its only one), so the test actors stay untouched for the README's figures. Each clip is
decoded at the model's rate and centre-cropped / zero-padded to the model's window
(``fix_length_numpy``, as evaluation), then scored under these conditions:

* ``clean``;
* ``white@S``: white Gaussian noise at S dB SNR (20, 10, 5);
* ``babble@S``: babble at S dB SNR: the sum of 4-6 clips of *training* actors of the same split
  (never a validation actor), each cropped at a random offset to the window and brought to one RMS
  (``ser_tf.data.noise.babble``);

and each of them again with ``ser_tf.inference.denoise.denoise`` applied before the model
(``+denoise``; on clean speech too, since a deployment that denoises does not know which clips are
noisy). The SNR is relative to the RMS of the clean window the model sees (``mix_at_snr``). The
noise of clip i is drawn from ``--seed`` and i only, so it is the same realisation at every SNR and
in every run.

Reports UA (unweighted average recall) and WA (accuracy) per condition, and their change against
``clean`` in the same run, as a markdown table; the cost of ``denoise`` per clip (process CPU and
wall time) as a ratio to the clip's duration and to the model's own inference time per clip, both
measured in this run. ``--denoise-grid`` also scores a few ``denoise`` settings (stationary or not,
``prop_decrease`` 0.5 / 0.8 / 1.0) on every condition, to choose the defaults on validation actors.
Skips with a message (exit 0) when the data folder or the model is absent.

``--json`` (the harness's file): each condition's UA against the clean UA of the same run (ratio
"relative"), the denoise cost against the model's own time per clip, and with ``--denoise-grid``
each setting's UAs over the noisy conditions against no denoising. ``--quick``: an untrained tiny
CNN-LSTM run (speaker split) on a 48-clip synthetic demo corpus; its scores are chance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ravdess_folder  # noqa: E402 (after the path setup)
from benchmarks.fixtures import compare_scores  # noqa: E402
from benchmarks.harness import Bench, Stats, add_common_args  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ser_tf.data.noise import babble, mix_at_snr  # noqa: E402 (after the path setup)

DEFAULT_DATA = "ravdess=" + str(ROOT.parent / "shared" / "data" / "ravdess-speech-16k")
DEFAULT_SNRS = (20.0, 10.0, 5.0)
BABBLE_TALKERS = (4, 6)  # inclusive range of talkers summed per babble
BABBLE_BANK = 64  # training-actor clips loaded once; each babble draws its talkers from them
GRID = tuple((stationary, prop) for stationary in (False, True) for prop in (0.5, 0.8, 1.0))


# --------------------------------------------------------------------------------------------
# Which actors: the run's validation split


def find_split(model_path: Path, split: Optional[str] = None) -> Tuple[str, Dict[str, List[str]]]:
    """``(split name, {"train": [...], "val": [...], "test": [...]})`` of the run that holds the model.

    ``model_path`` is a run folder, a fold folder (``config.yaml`` one level up, the split named
    like the folder) or a model file inside either. ``split`` picks a split by name instead.

    Raises:
        SystemExit: no ``config.yaml``, or a k-fold run folder without ``--split`` (ambiguous).
    """
    import yaml

    folder = model_path if model_path.is_dir() else model_path.parent
    for run_dir in (folder, folder.parent):
        config = run_dir / "config.yaml"
        if config.is_file():
            break
    else:
        raise SystemExit(f"no config.yaml in {folder} or {folder.parent}: the validation actors "
                         "come from the run's resolved splits")
    splits = (yaml.safe_load(config.read_text()).get("resolved") or {}).get("splits") or {}
    if not splits:
        raise SystemExit(f"{config} has no resolved.splits (a run of an older ser_tf?)")
    if split is None:
        if run_dir != folder and folder.name in splits:
            split = folder.name
        elif len(splits) == 1:
            split = next(iter(splits))
        else:
            raise SystemExit(f"{config} has {len(splits)} splits ({', '.join(splits)}): pass a fold "
                             "folder as --model, or --split NAME")
    if split not in splits:
        raise SystemExit(f"split {split!r} not in {config} (has {', '.join(splits)})")
    return split, splits[split]


# --------------------------------------------------------------------------------------------
# Noisy conditions


def conditions(snrs: Sequence[float]) -> List[Tuple[str, Optional[str], Optional[float]]]:
    """``[(name, kind, snr_db)]``: clean first, then white and babble at each SNR."""
    out = [("clean", None, None)]
    for kind in ("white", "babble"):
        out += [(f"{kind}@{snr:g}", kind, snr) for snr in snrs]
    return out


def make_noises(n_clips: int, window: int, bank: np.ndarray, *, seed: int) -> Dict[str, np.ndarray]:
    """``{"white": (n_clips, window), "babble": (n_clips, window)}`` float32, one row per clip.

    Row i is drawn from ``[seed, i]`` alone: the same noise at every SNR and in every run. A
    babble row sums 4-6 distinct clips of ``bank`` (training actors), each level-normalised.
    """
    white = np.empty((n_clips, window), np.float32)
    talk = np.empty((n_clips, window), np.float32)
    for i in range(n_clips):
        rng = np.random.default_rng([seed, i])
        white[i] = rng.standard_normal(window)
        k = int(rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1))
        talk[i] = babble(bank[rng.choice(len(bank), size=k, replace=False)])
    return {"white": white, "babble": talk}


# --------------------------------------------------------------------------------------------
# Data


def load_windows(records, *, sample_rate: int, window: int, rng=None) -> np.ndarray:
    """``(len(records), window)`` float32: each clip decoded and fitted to the window; centred, or
    at a random offset per clip when ``rng`` is given (the babble talkers)."""
    from ser_tf.data.audio_io import load_audio
    from ser_tf.data.cropping import fix_length_numpy

    out = np.empty((len(records), window), np.float32)
    for i, record in enumerate(records):
        x = load_audio(record.path, sample_rate=sample_rate)
        offset = None if rng is None else int(rng.integers(0, abs(len(x) - window) + 1))
        out[i] = fix_length_numpy(x, window, offset=offset)
    return out


def limit_per_actor(records, limit: Optional[int], *, seed: int):
    """At most ``limit`` records per speaker, drawn with ``seed`` (all of them when ``None``)."""
    if not limit:
        return list(records)
    rng = np.random.default_rng(seed)
    kept = []
    for speaker in sorted({r.speaker for r in records}):
        mine = [r for r in records if r.speaker == speaker]
        pick = sorted(rng.choice(len(mine), size=min(limit, len(mine)), replace=False))
        kept += [mine[j] for j in pick]
    return kept


# --------------------------------------------------------------------------------------------
# Scoring


def score(predictor, windows: np.ndarray, y: np.ndarray, *, batch_size: int) -> Tuple[dict, float]:
    """``({"ua", "wa"}, seconds of model time per clip)``."""
    from ser_tf.evaluation.metrics import compute_metrics

    probs, start = [], time.perf_counter()
    for i in range(0, len(windows), batch_size):
        probs.append(predictor.predict_batch(windows[i:i + batch_size]))
    seconds = (time.perf_counter() - start) / len(windows)
    metrics = compute_metrics(y, np.concatenate(probs), class_names=predictor.classes)
    return {"ua": metrics["ua"], "wa": metrics["accuracy"]}, seconds


def denoise_all(windows: np.ndarray, *, sample_rate: int, **settings) -> Tuple[np.ndarray, float, float]:
    """``(denoised windows, CPU s per clip, wall s per clip)``."""
    from ser_tf.inference.denoise import denoise

    out = np.empty_like(windows)
    cpu, wall = time.process_time(), time.perf_counter()
    for i, x in enumerate(windows):
        out[i] = denoise(x, sample_rate=sample_rate, **settings)
    n = max(len(windows), 1)
    return out, (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


def _fmt(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def markdown_table(rows: List[dict], clean: dict) -> str:
    lines = ["| condition | UA | WA | UA - clean UA | WA - clean WA |", "|---|---|---|---|---|"]
    for row in rows:
        d_ua = None if row["ua"] is None or clean["ua"] is None else row["ua"] - clean["ua"]
        d_wa = row["wa"] - clean["wa"]
        lines.append(f"| {row['condition']} | {_fmt(row['ua'])} | {_fmt(row['wa'])} | "
                     f"{'n/a' if d_ua is None else f'{d_ua:+.3f}'} | {d_wa:+.3f} |")
    return "\n".join(lines)


def grid_table(grid: Dict[str, Dict[str, dict]], names: Sequence[str]) -> str:
    settings = list(grid)
    head = "| condition | " + " | ".join(settings) + " |"
    lines = [head, "|---" * (len(settings) + 1) + "|"]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_fmt(grid[s][name]["ua"]) for s in settings) + " |")
    noisy = [n for n in names if n != "clean"]
    means = [np.mean([grid[s][n]["ua"] for n in noisy]) for s in settings]
    lines.append("| mean UA, noisy | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    return "\n".join(lines)


def record(bench: Bench, rows: List[dict], cost: dict, grid: Optional[dict], names: Sequence[str]) -> None:
    """Every condition's UA against clean, the denoise cost, and the grid's settings."""
    clean = rows[0]
    for row in rows[1:]:
        if row["ua"] is not None and clean["ua"] is not None:
            compare_scores(bench, f"UA, {row['condition']}", [row["ua"]], [clean["ua"]],
                           baseline_name="clean, same model and clips", details={"wa": row["wa"], "clean_wa": clean["wa"]})
    bench.compare("denoise cost per clip", Stats(cost["denoise_wall_ms"], unit="ms"),
                  Stats(cost["model_ms"], unit="ms"), baseline_name="the model's own time per clip",
                  ratio="relative", details={k: v for k, v in cost.items() if not k.endswith("_ms")})
    if grid:
        noisy = [n for n in names if n != "clean"]
        for key, scores in grid.items():
            if key != "none":
                compare_scores(bench, f"UA over the noisy conditions, denoise {key}",
                               [scores[n]["ua"] for n in noisy], [grid["none"][n]["ua"] for n in noisy],
                               baseline_name="no denoise")


def quick_model(folder: Path) -> Tuple[Path, str]:
    """``(run folder, data spec)``: an untrained tiny speaker-split run on a small demo corpus."""
    from benchmarks.fixtures import demo_corpus, tiny_runs

    corpus = demo_corpus(folder / "corpus")
    return tiny_runs(folder / "runs", corpus, names=("noise",), split="speaker")[0], f"ravdess={corpus}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser, data=False)
    parser.add_argument("--model", type=Path, default=None,
                        help="a trained run folder, fold folder (fold-K of a k-fold run) or .keras file "
                             "(required unless --quick)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="ravdess=PATH (a bare PATH means ravdess=PATH)")
    parser.add_argument("--split", default=None,
                        help="split name in the run's config.yaml (default: the fold folder's, or the only one)")
    parser.add_argument("--snr", default=",".join(f"{s:g}" for s in DEFAULT_SNRS),
                        help="SNRs in dB, comma-separated")
    parser.add_argument("--limit", type=int, default=None,
                        help="at most N clips per validation actor (default: all), for quick runs")
    parser.add_argument("--denoise-grid", action="store_true",
                        help="also score denoise with stationary on/off x prop_decrease 0.5/0.8/1.0")
    parser.add_argument("--seed", type=int, default=0, help="noise, babble and --limit draws")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per model call")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    bench = Bench.from_args("noise_robustness", "a trained model under white and babble noise", args)
    if args.quick:
        import tempfile

        work = tempfile.TemporaryDirectory(prefix="noise_robustness_quick_")
        args.model, args.data = quick_model(Path(work.name))
        bench.note("Quick run: an untrained tiny CNN-LSTM (1 s window, speaker split) on a 48-clip synthetic "
                   "demo corpus; the scores are chance, only the code path is exercised.")
    spec, folder = ravdess_folder(args.data)
    reason = (f"data folder not found: {args.data} (pass --data ravdess=PATH)" if folder is None
              else "needs a trained model: pass --model RUN_FOLDER or FILE.keras" if args.model is None
              else f"no model at {args.model} (pass --model RUN_FOLDER or FILE.keras)"
              if not args.model.exists() else None)
    if reason is not None:
        bench.skip(reason)
        bench.write()
        return 0
    try:
        snrs = tuple(float(s) for s in args.snr.split(","))
    except ValueError:
        parser.error(f"--snr must be comma-separated numbers, got {args.snr!r}")
    split_name, split = find_split(args.model, args.split)

    import warnings

    from ser_tf.data.manifest import load_data
    from ser_tf.inference.denoise import DEFAULT_PROP_DECREASE, DEFAULT_STATIONARY
    from ser_tf.inference.predictor import Predictor

    predictor = Predictor(args.model)
    sr, window = predictor.sample_rate, predictor.window_samples
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = load_data([spec], labels=",".join(predictor.classes))
    for w in caught:
        print(f"data: {w.message}")
    index = {c: i for i, c in enumerate(predictor.classes)}
    val_speakers, train_speakers = set(split["val"]), set(split["train"])
    val = limit_per_actor([r for r in bundle.records if r.speaker in val_speakers], args.limit,
                          seed=args.seed)
    pool = [r for r in bundle.records if r.speaker in train_speakers]
    if not val or not pool:
        raise SystemExit(f"split {split_name}: {len(val)} validation clips and {len(pool)} training "
                         f"clips found in {folder}; is it the run's corpus?")
    print(f"model: {predictor.model_path} ({len(predictor.classes)} classes, window {window / sr:g} s)")
    print(f"split {split_name}: validation actors {sorted(val_speakers)}: {len(val)} clips"
          f"{f' (--limit {args.limit} per actor)' if args.limit else ''}; babble from "
          f"{len(train_speakers)} training actors")

    y = np.asarray([index[r.emotion] for r in val], np.int32)
    clean = load_windows(val, sample_rate=sr, window=window)
    rng = np.random.default_rng([args.seed, 1])
    bank_records = [pool[j] for j in rng.choice(len(pool), size=min(BABBLE_BANK, len(pool)), replace=False)]
    bank = load_windows(bank_records, sample_rate=sr, window=window, rng=rng)
    noises = make_noises(len(val), window, bank, seed=args.seed)
    names = conditions(snrs)

    def mixed(kind, snr):
        if kind is None:
            return clean
        return np.stack([mix_at_snr(c, n, snr) for c, n in zip(clean, noises[kind])])

    predictor.warmup()
    denoise_all(clean[:1], sample_rate=sr)  # untimed: the first call imports noisereduce and scipy
    default = {"stationary": DEFAULT_STATIONARY, "prop_decrease": DEFAULT_PROP_DECREASE}
    rows, costs, model_s = [], [], []
    for name, kind, snr in names:
        noisy = mixed(kind, snr)
        metrics, seconds = score(predictor, noisy, y, batch_size=args.batch_size)
        model_s.append(seconds)
        rows.append({"condition": name, **metrics})
        denoised, cpu, wall = denoise_all(noisy, sample_rate=sr, **default)
        costs.append((cpu, wall))
        metrics, _ = score(predictor, denoised, y, batch_size=args.batch_size)
        rows.append({"condition": f"{name}+denoise", **metrics})
        print(f"  {name}: UA {_fmt(rows[-2]['ua'])} -> {_fmt(rows[-1]['ua'])} with denoise", flush=True)

    clip_s = window / sr
    cpu, wall = (float(np.mean([c[i] for c in costs])) for i in (0, 1))
    model = float(np.median(model_s))
    cost = {"clip_seconds": clip_s, "clips": len(val), "denoise_cpu_ms_per_clip": 1e3 * cpu,
            "denoise_wall_ms_per_clip": 1e3 * wall, "denoise_cpu_over_clip_duration": cpu / clip_s,
            "model_ms_per_clip": 1e3 * model, "denoise_wall_over_model": wall / model}
    print(f"\n## {predictor.model_path} -- split {split_name}, {len(val)} validation clips\n")
    print(markdown_table(rows, rows[0]))
    print(f"\ndenoise ({'stationary' if default['stationary'] else 'non-stationary'}, prop_decrease "
          f"{default['prop_decrease']}): {cost['denoise_cpu_ms_per_clip']:.1f} ms CPU / "
          f"{cost['denoise_wall_ms_per_clip']:.1f} ms wall per {clip_s:g} s clip = "
          f"{cost['denoise_cpu_over_clip_duration']:.4f} x the clip's duration (CPU), "
          f"{cost['denoise_wall_over_model']:.2f} x the model's own {cost['model_ms_per_clip']:.1f} ms per clip")

    grid = None
    if args.denoise_grid:
        grid = {}
        for stationary, prop in GRID:
            key = f"{'stationary' if stationary else 'nonstationary'} p={prop:g}"
            grid[key] = {}
            for name, kind, snr in names:
                denoised, _, _ = denoise_all(mixed(kind, snr), sample_rate=sr, stationary=stationary,
                                             prop_decrease=prop)
                grid[key][name], _ = score(predictor, denoised, y, batch_size=args.batch_size)
            print(f"  grid {key}: done", flush=True)
        grid["none"] = {row["condition"]: {"ua": row["ua"], "wa": row["wa"]}
                        for row in rows if not row["condition"].endswith("+denoise")}
        print("\n### denoise settings, UA on the validation actors\n")
        print(grid_table(grid, [n for n, _, _ in names]))

    if args.out:
        result = {"model": str(predictor.model_path), "split": split_name,
                  "val_speakers": sorted(val_speakers), "n_clips": len(val), "limit": args.limit,
                  "seed": args.seed, "snrs": list(snrs), "denoise": default, "conditions": rows,
                  "cost": cost, "grid": grid}
        args.out.write_text(json.dumps(result, indent=2))
        print(f"\nwrote {args.out}")
    record(bench, rows, dict(cost, denoise_wall_ms=[1e3 * c[1] for c in costs], model_ms=[1e3 * m for m in model_s]),
           grid, [n for n, _, _ in names])
    bench.note(f"Model {predictor.model_path}, split {split_name}: {len(val)} validation clips "
               f"({'all' if not args.limit else f'at most {args.limit}'} per actor); one score per condition "
               "(deterministic noise, so no repeats); denoise cost: per-clip wall time of each condition's "
               "pass against the model's time per clip in the same pass.")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
