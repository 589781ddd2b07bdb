"""``audio_test.py``: predict the emotion in speech from files, a folder, or the microphone.

A thin wrapper over ``ser_tf.inference.Predictor``. Arguments are parsed and checked, and a missing
model is reported, before TensorFlow is imported, so ``--help`` and usage errors are instant.

Exit status: 0 every input classified; 1 some input could not be classified (missing, unreadable,
too short or silent audio: reported on stderr, the others still run); 2 usage, model or audio-device
error. With ``--json`` stdout holds exactly one JSON document; messages go to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import List, Optional

from ser_tf.errors import AudioError, DeviceError, ModelError, ParameterError
from ser_tf.utils import progress
from ser_tf.utils.cli import (HelpFormatter, add_output_flags, apply_output_flags, emit_json,
                             start_tensorflow)

EXIT_OK, EXIT_FAILED_INPUTS, EXIT_USAGE = 0, 1, 2
PROG = "audio_test.py"
# Extensions --dir picks up (libsndfile's formats, plus MP3/Opus that recent libsndfile decodes).
AUDIO_SUFFIXES = frozenset(
    ".wav .wave .flac .ogg .oga .opus .mp3 .aif .aiff .aifc .au .snd .caf .w64 .rf64 .sd2 .voc".split()
)
DEFAULT_DIR_CSV = "predictions.csv"


class _Formatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults, except the unset ones whose help says what happens; keep the epilog's lines."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Predict the emotion in speech: audio files, a folder, a long recording, or "
                    "the microphone.",
        epilog="exit status:\n  0  every input classified\n  1  some inputs could not be "
               "classified (reported on stderr; the others still run)\n  2  usage, model or "
               "audio-device error",
        formatter_class=_Formatter,
    )
    p.add_argument("--model", metavar="PATH",
                   help="'default' (the bundled model: Whisper tiny.en + a RAVDESS head), a .keras "
                        "or .h5 file, a run folder, or a .tflite export (python -m ser_tf.export), "
                        "run by the LiteRT interpreter; default: the newest run in models/ trained "
                        "on real speech ($SER_TF_MODELS replaces models/), else 'default'")
    p.add_argument("--labels", metavar="NAMES",
                   help='class names in output order, e.g. "neutral,happy,sad"; default: the run\'s '
                        "labels.json")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--file", nargs="+", metavar="PATH", help="one or more audio files")
    src.add_argument("--dir", metavar="PATH", help="classify every audio file in a folder and write a CSV")
    src.add_argument("--record-duration", type=float, metavar="SECONDS",
                     help="record this many seconds from the microphone, then classify")
    src.add_argument("--stream", action="store_true",
                     help="classify the microphone live until Ctrl-C")
    p.add_argument("--recursive", action="store_true", help="--dir: include sub-folders")
    p.add_argument("--csv", metavar="PATH",
                   help=f"write one CSV row per file; default with --dir: {DEFAULT_DIR_CSV} in the "
                        "current directory")
    p.add_argument("--window", type=float, metavar="SECONDS",
                   help="sliding-window length for recordings longer than it; default: the model's "
                        "input length")
    p.add_argument("--hop", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between sliding windows (and between live updates)")
    p.add_argument("--top-k", type=int, default=3, metavar="K", help="classes listed per prediction")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout, nothing else")
    p.add_argument("--plot", metavar="OUT.png",
                   help="save the waveform with the emotion timeline and the probability bars")
    p.add_argument("--device", metavar="ID", help="input device index or name (see --list-devices)")
    p.add_argument("--list-devices", action="store_true", help="list audio input devices and exit")
    p.add_argument("--stream-seconds", type=float, metavar="SECONDS",
                   help="--stream: stop after this many seconds of audio")
    p.add_argument("--alpha", type=float, default=0.5,
                   help="--stream: weight of the newest window in the smoothed confidence (EMA)")
    p.add_argument("--batch-size", type=int, default=16, help="windows per model call")
    p.add_argument("--denoise", action="store_true",
                   help="reduce background noise (spectral gating) before classifying")
    add_output_flags(p)
    return p


def _check_args(parser: argparse.ArgumentParser, args) -> None:
    modes = [args.file, args.dir, args.record_duration, args.stream or None]
    if not args.list_devices and all(m is None for m in modes):
        parser.error("give one of --file, --dir, --record-duration, --stream (or --list-devices)")
    for name in ("hop", "window", "record_duration", "stream_seconds"):
        value = getattr(args, name)
        if value is not None and not 0 < value < math.inf:  # inf: a recording that never ends
            parser.error(f"--{name.replace('_', '-')} must be a finite number of seconds > 0, got {value!r}")
    if args.top_k < 1 or args.batch_size < 1:
        parser.error(f"--top-k and --batch-size must be >= 1, got {args.top_k} and {args.batch_size}")
    if not 0.0 < args.alpha <= 1.0:
        parser.error(f"--alpha must be in (0, 1], got {args.alpha!r}")
    if args.recursive and args.dir is None:
        parser.error("--recursive only applies to --dir")
    if args.stream_seconds is not None and not args.stream:
        parser.error("--stream-seconds only applies to --stream")
    if args.device is not None and args.record_duration is None and not (args.stream or args.list_devices):
        parser.error("--device only applies to --record-duration, --stream and --list-devices")
    if args.plot and (args.dir or args.stream or (args.file and len(args.file) > 1)):
        parser.error("--plot draws one recording: use it with a single --file or --record-duration")
    if args.csv and not (args.file or args.dir):
        parser.error("--csv only applies to --file and --dir")


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)


def _info(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def _emit_json(document: dict) -> None:
    emit_json(document)  # UTF-8, names as written


def _import_keras_lean() -> None:
    """Import Keras without the scikit-learn and matplotlib integrations it loads eagerly.

    Keras imports both inside ``try/except ImportError`` (for its scikit-learn wrappers and image
    gallery plots), which inference never uses, and together they add seconds to every cold start.
    Marking them unimportable just for that import makes Keras skip them; the marks are removed
    afterwards, so ``--plot`` still imports matplotlib normally. Only the CLI does this: it owns its
    process, while a library user may want those Keras integrations.
    """
    if "keras" in sys.modules:
        return
    blocked = [name for name in ("sklearn", "matplotlib") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import keras  # noqa: F401
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    apply_output_flags(args)
    try:
        if args.list_devices:
            return _list_devices(args)
        return _predict(parser, args)
    except (ModelError, DeviceError, ParameterError) as err:
        _error(str(err))
        return EXIT_USAGE
    except OSError as err:  # an output (CSV, plot) that cannot be written
        _error(f"cannot write {err.filename or 'output'}: {err.strerror or err}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def _list_devices(args) -> int:
    from ser_tf.inference import microphone

    devices = microphone.list_input_devices()
    if args.json:
        _emit_json({"input_devices": [dataclasses.asdict(d) for d in devices]})
        return EXIT_OK
    if not devices:
        print("no audio input devices found", file=sys.stderr)
        return EXIT_OK
    print("input devices (* = default):")
    for d in devices:
        mark = "*" if d.is_default else " "
        print(f"{mark} {d.index:3d}  {d.name}  ({d.hostapi}, {d.channels} ch, {d.default_samplerate:g} Hz)")
    return EXIT_OK


def _predict(parser, args) -> int:
    from ser_tf.inference import loading
    from ser_tf.inference.choice import choose_model

    labels = None
    if args.labels is not None:
        try:
            labels = loading.parse_labels(args.labels)
        except ParameterError as err:
            parser.error(str(err))
    # Before TensorFlow, so these fail at once: no model, a file that is not a model, a bad device.
    # (Only the default model's first use imports TensorFlow here, to assemble it.)
    from ser_tf import pretrained

    if args.model is None or pretrained.is_default_name(args.model):
        # The default model may have to be assembled (first use), which imports TensorFlow:
        # quiet it first. (A named file is checked before TensorFlow, so a typo fails at once.)
        start_tensorflow(args, import_tensorflow=_import_keras_lean)
    choice = choose_model(args.model, log=None if (args.json or args.quiet) else _info)  # logs its note
    if choice.warning:
        _warn(choice.warning)
    model_path = choice.path
    loading.check_container(model_path)
    paths = None
    if args.file:
        paths = [Path(p) for p in args.file]
    elif args.dir:
        paths = _collect_dir(Path(args.dir), recursive=args.recursive)
    device = None
    if args.record_duration is not None or args.stream:
        from ser_tf.inference import microphone

        device = microphone.resolve_input_device(microphone.parse_device(args.device)).index
    start_tensorflow(args, import_tensorflow=_import_keras_lean)  # without its start-up noise
    _import_keras_lean()  # already done, unless --verbose
    from ser_tf.inference.predictor import Predictor

    predictor = Predictor(choice, labels=labels, top_k=args.top_k, batch_size=args.batch_size,
                          denoise=args.denoise)
    win = predictor.window_length(args.window)  # fail early on a --window the model cannot take
    predictor.hop_length(args.hop, win)
    if not (args.json or args.quiet):
        print(f"model: {predictor.model_path} ({len(predictor.classes)} classes: "
              f"{', '.join(predictor.classes)}; {win / predictor.sample_rate:g} s window)",
              file=sys.stderr, flush=True)
    if paths is not None:
        return _run_files(predictor, args, paths)
    predictor.warmup()  # trace the graph before the microphone opens, not during the first window
    if args.record_duration is not None:
        return _run_record(predictor, args, device)
    return _run_stream(predictor, args, device)


def _collect_dir(folder: Path, *, recursive: bool) -> List[Path]:
    if not folder.is_dir():
        raise ParameterError(f"--dir {str(folder)!r} is not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(p for p in found if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ParameterError(
            f"--dir {str(folder)!r} holds no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})"
            + ("" if recursive else "; add --recursive to search sub-folders")
        )
    return files


def _run_files(predictor, args, paths: List[Path]) -> int:
    from ser_tf.inference import render

    compact = args.dir is not None
    results, failed, last = [], 0, None
    # One bar over the files (stderr, terminal only); a long recording alone gets a bar of windows.
    for path in progress.progress(paths, desc="classifying", unit="file", enabled=None if len(paths) > 1 else False):
        try:
            pred, long = predictor.predict_path(path, window=args.window, hop=args.hop,
                                                progress=len(paths) == 1)
        except (AudioError, ParameterError) as err:
            failed += 1
            message = str(err)
            reason = message[len(f"{path}: "):] if message.startswith(f"{path}: ") else message
            _warn(f"{path}: {reason}; skipped")
            results.append(render.error_dict(str(path), reason))
            continue
        results.append(render.result_dict(str(path), pred, long))
        last = (path, pred, long)
        if not args.json:
            if compact:
                progress.write(f"{path}\t{pred.label}\t{100 * pred.confidence:.1f}%")
            elif long is not None:
                progress.write(render.format_long(long, name=str(path)))
            else:
                progress.write(render.format_prediction(pred, name=str(path)))
    csv_path = args.csv or (DEFAULT_DIR_CSV if args.dir else None)
    if csv_path:
        try:
            render.write_csv(csv_path, results, predictor.classes)
        except OSError as err:
            raise ParameterError(f"cannot write the CSV {csv_path}: {err.strerror or err}") from None
        if not args.quiet:
            print(f"wrote {csv_path} ({len(results)} files)", file=sys.stderr)
    if args.plot and last is not None:
        _plot(predictor, args.plot, audio=last[0], prediction=last[1], long=last[2])
    if args.json:
        _emit_json({"model": str(predictor.model_path), "classes": predictor.classes,
                    "window": predictor.window_length(args.window) / predictor.sample_rate,
                    "results": results, "failed": failed})
    if failed:
        _warn(f"{failed} of {len(paths)} files could not be classified")
        return EXIT_FAILED_INPUTS
    return EXIT_OK


def _plot(predictor, out, *, audio, prediction, long) -> None:
    from ser_tf.inference.plot import plot_result

    try:
        plot_result(out, audio=audio, sample_rate=predictor.sample_rate, classes=predictor.classes,
                    prediction=prediction, long=long)
    except OSError as err:
        raise ParameterError(f"cannot write the plot {out}: {err.strerror or err}") from None
    print(f"saved plot to {out}", file=sys.stderr)


def _run_record(predictor, args, device: int) -> int:
    from ser_tf.inference import microphone, render

    if not args.json:
        print(f"recording {args.record_duration:g} s...", file=sys.stderr, flush=True)
    x = microphone.record(args.record_duration, device=device, sample_rate=predictor.sample_rate)
    long = None
    try:
        if len(x) > predictor.window_length(args.window):
            long = predictor.predict_long_waveform(x, sample_rate=predictor.sample_rate, window=args.window,
                                                   hop=args.hop, path="microphone")
            pred = long.overall
        else:
            pred = predictor.predict_waveform(x, sample_rate=predictor.sample_rate, path="microphone")
    except AudioError as err:  # e.g. a muted microphone: digital silence
        _error(str(err))
        if args.json:
            reason = str(err).removeprefix("microphone: ")
            _emit_json({"model": str(predictor.model_path), "classes": predictor.classes,
                        "results": [render.error_dict("microphone", reason)], "failed": 1})
        return EXIT_FAILED_INPUTS
    if args.json:
        _emit_json({"model": str(predictor.model_path), "classes": predictor.classes,
                    "results": [render.result_dict("microphone", pred, long)], "failed": 0})
    elif long is not None:
        print(render.format_long(long, name="microphone"))
    else:
        print(render.format_prediction(pred, name="microphone"))
    if args.plot:
        _plot(predictor, args.plot, audio=x, prediction=pred, long=long)
    return EXIT_OK


def _run_stream(predictor, args, device: int) -> int:
    from ser_tf.inference import microphone, render

    source = microphone.iter_microphone(device=device,
                                        sample_rate=predictor.sample_rate,
                                        max_seconds=args.stream_seconds)
    live = sys.stdout.isatty() and not args.json
    if not args.json:
        stop = f"for {args.stream_seconds:g} s" if args.stream_seconds else "until Ctrl-C"
        print(f"listening {stop}...", file=sys.stderr, flush=True)
    updates, last = [], None
    stream = predictor.stream(source, window=args.window, hop=args.hop, alpha=args.alpha, drop_late=True)
    try:
        for last in stream:
            updates.append(render.update_dict(last))
            if live:
                print("\r\x1b[K" + render.format_update(last), end="", flush=True)  # rewrite the line
            elif not args.json:
                print(render.format_update(last), flush=True)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a live stream ends
    finally:
        stream.close()
        source.close()
    if live:
        print()
    audio_s = 0.0 if last is None else last.audio_s
    rtf = 0.0 if last is None else last.real_time_factor
    dropped = 0 if last is None else last.dropped
    if args.json:
        _emit_json({"model": str(predictor.model_path), "classes": predictor.classes,
                    "audio_seconds": round(audio_s, 3), "real_time_factor": round(rtf, 4),
                    "dropped_windows": dropped, "updates": updates})
    else:
        print(f"streamed {audio_s:.1f} s: {len(updates)} updates, {dropped} windows dropped, "
              f"real-time factor {rtf:.3f} (compute time / audio time)", file=sys.stderr)
    return EXIT_OK
