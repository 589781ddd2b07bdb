#!/usr/bin/env python
"""The Python API on one recording: a clip's label, a timeline, and a simulated live stream.

    python examples/python_api.py clip.wav                  # the bundled default model
    python examples/python_api.py clip.wav --model models/whisper-20261130-130000
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import soundfile as sf  # noqa: E402

import ser_tf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("audio", help="an audio file (any format, rate and channel count)")
    parser.add_argument("--model", default="default", help="'default', a run folder, or a .keras/.h5 file")
    args = parser.parse_args()

    model = ser_tf.load_model(args.model)
    print(model)

    result = model.predict_file(args.audio)  # one label for the file
    print(f"{args.audio}: {result.label} ({result.confidence:.0%})")
    for label, probability in result.top_k:
        print(f"  {label:<10} {probability:.3f}")

    waveform, rate = sf.read(args.audio, dtype="float32")  # the same audio, from memory
    print("from memory:", model.predict(waveform, sample_rate=rate).label)

    timeline = model.predict_long(args.audio, window=model.window, hop=1.0)
    for w in timeline.timeline:
        print(f"  {w.start:5.1f}-{w.end:5.1f} s  {w.label}")

    mono = waveform if waveform.ndim == 1 else waveform.mean(axis=1)
    chunks = (mono[i:i + rate // 10] for i in range(0, len(mono), rate // 10))  # 0.1 s, as a microphone
    for update in model.stream(chunks, sample_rate=rate, hop=0.5):
        print(f"  live {update.end:5.1f} s  {update.label}")


if __name__ == "__main__":
    main()
