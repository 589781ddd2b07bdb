"""Convert a local Whisper checkpoint folder (Hugging Face or CTranslate2) and compare it with the reference.

The tool half of the keras-hub split: the mapping itself is ``ser_tf.models.whisper.convert``
(config mapping, weight porting, the converted-weights format) and ``ct2_checkpoint.py`` reads
CTranslate2 files; this module adds the reference comparison and the command line::

    python -m ser_tf.tools.convert_whisper --checkpoint DIR --out models/whisper_tiny.weights.h5 [--compare]

``DIR`` holds ``config.json`` + ``model.safetensors`` / ``pytorch_model.bin`` (what
``huggingface-cli download openai/whisper-tiny --local-dir DIR`` writes) or a CTranslate2
conversion (``model.bin`` + ``config.json``, e.g. faster-whisper's models). Nothing is downloaded.
``--out X.weights.h5`` also writes ``X.config.json`` (the backbone kwargs), which
``ser_tf.models.whisper.convert.load_converted`` and ``model.checkpoint`` read back.

``--compare`` (``compare_checkpoint``) runs ours and the reference on the same synthetic audio and
prints the largest absolute differences, front-end and encoder measured apart:

* ``log_mel``: ``WhisperLogMel`` vs ``transformers.WhisperFeatureExtractor`` (when installed);
* ``encoder``: the backbone vs ``ctranslate2``'s encoder (CTranslate2 folders, run with
  ``compute_type="float32"``) or ``transformers``' ``WhisperEncoder`` (HF folders), on the same
  features, the 30 s window Whisper was trained on.

The references are test requirements (``ctranslate2``, ``torch``, ``transformers``), imported
only here; a missing one is reported as ``None``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Dict, Optional

import numpy as np

from ser_tf.constants import SAMPLE_RATE
from ser_tf.errors import SerError
from ser_tf.utils.cli import HelpFormatter, add_output_flags, apply_output_flags, start_tensorflow
from ser_tf.utils.progress import bars_enabled

if TYPE_CHECKING:  # the Keras modules are imported where used: --help stays instant
    from ser_tf.models.whisper.backbone import WhisperEncoderBackbone

WINDOW_SAMPLES = 30 * SAMPLE_RATE  # Whisper's 30 s input window


def synthetic_vowel(seconds: float = 3.0, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A vowel-like test signal, float32 in [-0.3, 0.3]: a 120 Hz harmonic source with vibrato,
    shaped by formants at 700 and 1200 Hz."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    f0 = 120.0 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    y = sum(
        np.sin(k * phase) * (np.exp(-(((k * f0 - 700) / 300) ** 2)) + 0.5 * np.exp(-(((k * f0 - 1200) / 400) ** 2)))
        for k in range(1, 40)
    )
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def _reference_log_mel(audio: np.ndarray, n_mels: int) -> Optional[np.ndarray]:
    try:
        from transformers import WhisperFeatureExtractor
    except ImportError:
        return None
    extractor = WhisperFeatureExtractor(feature_size=n_mels)
    return extractor(audio, sampling_rate=SAMPLE_RATE, return_tensors="np", padding="longest").input_features[0].T


def _reference_encoder(folder, features: np.ndarray) -> Optional[np.ndarray]:
    """``(1, frames / 2, hidden)`` from the reference implementation of ``folder``'s kind."""
    from ser_tf.models.whisper.convert import checkpoint_kind

    channels_first = np.ascontiguousarray(features.transpose(0, 2, 1))
    if checkpoint_kind(folder) == "ct2":
        try:
            import ctranslate2
        except ImportError:
            return None
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
        return np.array(model.encode(ctranslate2.StorageView.from_array(channels_first)))
    try:
        import torch
        import transformers
    except ImportError:
        return None
    if not bars_enabled():  # its "Loading weights" bar, also on a log file or with --quiet
        transformers.utils.logging.disable_progress_bar()
    model = transformers.AutoModel.from_pretrained(str(folder))
    encoder = model.get_encoder() if hasattr(model, "get_encoder") else model.model.encoder
    with torch.no_grad():
        return encoder.eval()(torch.from_numpy(channels_first)).last_hidden_state.numpy()


def compare_checkpoint(folder, backbone: "WhisperEncoderBackbone", *, seconds: float = 3.0) -> Dict[str, Optional[float]]:
    """Largest absolute differences ``{"log_mel": ..., "encoder": ...}`` (``None``: no reference).

    Args:
        folder: the checkpoint folder ``backbone`` was converted from.
        backbone: the converted encoder.
        seconds: length of the synthetic vowel, padded to Whisper's 30 s window for the encoder.
    """
    from ser_tf.layers.whisper_log_mel import WhisperLogMel
    from ser_tf.models.whisper.backbone import backbone_inputs

    audio = synthetic_vowel(seconds)
    front_end = WhisperLogMel(n_mels=backbone.n_mels)
    ours = front_end(audio[None]).numpy()[0]
    ref = _reference_log_mel(audio, backbone.n_mels)
    result = {"log_mel": None if ref is None else float(np.abs(ours - ref).max())}
    window = np.pad(audio, (0, max(0, WINDOW_SAMPLES - audio.size)))[None, :WINDOW_SAMPLES]
    features = front_end(window).numpy()
    want = _reference_encoder(folder, features)
    got = backbone(backbone_inputs(features))["sequence_output"].numpy()
    result["encoder"] = None if want is None else float(np.abs(got - want).max())
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ser_tf.tools.convert_whisper",
        description="Convert a local Whisper checkpoint folder (HF or CTranslate2) to Keras encoder weights.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, help="HF or CTranslate2 Whisper folder")
    parser.add_argument("--out", help="output X.weights.h5 (X.config.json is written beside it)")
    parser.add_argument("--preset", metavar="NAME", help="check the checkpoint has this architecture, a preset "
                        "of ser_tf.models.whisper.presets (a wrong name lists them)")
    parser.add_argument("--compare", action="store_true", help="print the largest difference against the reference")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the synthetic test vowel (--compare)")
    add_output_flags(parser)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_output_flags(args)
    if not args.out and not args.compare:
        parser.error("nothing to do: give --out and/or --compare")
    if args.out and not args.out.endswith(".weights.h5"):
        parser.error(f"--out must end in .weights.h5, got {args.out!r}")
    if args.seconds <= 0 or args.seconds > 30:
        parser.error(f"--seconds must be in (0, 30], got {args.seconds!r}")

    start_tensorflow(args)  # without its start-up noise, unless --verbose
    from ser_tf.models.whisper.convert import load_checkpoint, save_converted
    from ser_tf.models.whisper.presets import list_presets

    if args.preset is not None and args.preset not in list_presets():
        parser.error(f"unknown --preset {args.preset!r}; choose one of: {', '.join(sorted(list_presets()))}")

    try:
        backbone = load_checkpoint(args.checkpoint, preset=args.preset)
        print(f"converted {args.checkpoint}: {backbone.num_layers} layers, {backbone.hidden_dim} wide, "
              f"{backbone.n_mels} mels, {backbone.count_params():,} parameters")
        if args.out:
            print(f"wrote {save_converted(backbone, args.out)}")
        if args.compare:
            for part, diff in compare_checkpoint(args.checkpoint, backbone, seconds=args.seconds).items():
                shown = "no reference installed" if diff is None else f"{diff:.3g}"
                print(f"max |ours - reference| {part}: {shown}")
    except SerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
