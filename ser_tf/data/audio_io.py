"""Reading audio files into float32 mono waveforms at the model's sample rate.

NumPy and soundfile only: inference and ``python -m ser_tf.data`` import this module and must start
without loading TensorFlow. Anything libsndfile reads is accepted (WAV 8/16/24/32-bit integer and
float, FLAC, OGG/Vorbis, MP3 with libsndfile >= 1.1). Channels are averaged to mono and the signal
is resampled with a polyphase filter (``scipy.signal.resample_poly``) using the exact rational
ratio ``target / orig`` reduced by their gcd.

Arrays follow soundfile's layout: ``(samples,)`` for mono, ``(samples, channels)`` for multichannel.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Iterator, Optional, Tuple

import numpy as np
import soundfile as sf

from ser_tf.constants import MAX_CLIP_SECONDS, MAX_FILE_RATE, MIN_FILE_RATE, SAMPLE_RATE
from ser_tf.errors import AudioError, ParameterError
from ser_tf.utils.checks import number_at_least, positive_int

__all__ = ["AudioInfo", "probe_audio", "load_audio", "resample", "to_mono", "iter_blocks",
           "check_training_clip"]

# What a user should hand us, repeated in every "cannot read" message.
EXPECTED_AUDIO = "a readable audio file (WAV, FLAC, OGG, MP3...)"

# resample_poly's default filter is a Kaiser-windowed sinc with 10 * max(up, down) taps on each
# side in the upsampled domain; iter_blocks reads this many input samples of context (in units of
# the input rate, see _filter_margin) so that resampling a block equals resampling the whole file.
_POLY_HALF_TAPS = 10
# The largest up or down factor resample() takes: 384 kHz (the top of the documented rate range)
# against any other integer rate. The filter has 20 taps per unit of it (7.7 M taps, 61 MB here);
# an absurd ratio (16 kHz from a prime 9,999,991 Hz) asked NumPy for arrays larger than memory.
MAX_RATIO_TERM = 384_000


@dataclasses.dataclass(frozen=True)
class AudioInfo:
    """Header facts of an audio file.

    Attributes:
        sample_rate: samples per second per channel (Hz).
        channels: number of channels (1 = mono).
        frames: samples per channel.
        duration: length in seconds (``frames / sample_rate``).
        format: container, as libsndfile names it (``"WAV"``, ``"WAVEX"``, ``"FLAC"``, ``"OGG"``,
            ``"MP3"``...).
        subtype: sample encoding (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ``"VORBIS"``...).
    """

    sample_rate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str


def _open_error(path, err: Exception) -> AudioError:
    if not os.path.exists(path):
        return AudioError("file not found", path=path)
    if os.path.isdir(path):
        return AudioError(f"is a directory, expected {EXPECTED_AUDIO}", path=path)
    return AudioError(f"cannot decode ({err}); expected {EXPECTED_AUDIO}", path=path)


def probe_audio(path) -> AudioInfo:
    """Read the header of ``path`` without decoding the samples.

    Raises:
        AudioError: the file is missing, is not audio libsndfile can read, holds no samples, or
            declares a sample rate outside ``MIN_FILE_RATE``..``MAX_FILE_RATE`` (4 kHz to 384 kHz).
    """
    path = os.fspath(path)
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError) as err:
        raise _open_error(path, err) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(f"holds no audio samples (0 frames); expected {EXPECTED_AUDIO}", path=path)
    if not MIN_FILE_RATE <= info.samplerate <= MAX_FILE_RATE:
        raise AudioError(
            f"declares a sample rate of {info.samplerate} Hz, outside the accepted "
            f"{MIN_FILE_RATE}-{MAX_FILE_RATE} Hz (a corrupt or forged header)", path=path)
    return AudioInfo(
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration=float(info.frames) / float(info.samplerate),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of ``x``.

    Args:
        x: ``(samples,)`` (returned as is) or ``(samples, channels)`` as soundfile returns it.

    Returns:
        ``(samples,)``, same dtype as ``x``.
    """
    x = np.asarray(x)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ParameterError(
            f"to_mono expects (samples,) or (samples, channels), got shape {x.shape}"
        )
    if x.shape[1] == 1:
        return x[:, 0]
    return x.mean(axis=1, dtype=np.float64).astype(x.dtype, copy=False)


def _ratio(orig_sr: int, target_sr: int) -> Tuple[int, int]:
    """``(up, down)``: the exact resampling ratio ``target_sr / orig_sr`` in lowest terms."""
    orig_sr = positive_int(orig_sr, name="orig_sr (Hz)")
    target_sr = positive_int(target_sr, name="target_sr (Hz)")
    g = math.gcd(orig_sr, target_sr)
    up, down = target_sr // g, orig_sr // g
    if max(up, down) > MAX_RATIO_TERM:
        raise ParameterError(
            f"cannot resample {orig_sr} Hz to {target_sr} Hz: the ratio {up}/{down} needs a filter of "
            f"{20 * max(up, down) + 1} taps (at most {MAX_RATIO_TERM} per side are supported)"
        )
    return up, down


def resample(x: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``x`` from ``orig_sr`` to ``target_sr`` Hz with a polyphase anti-aliasing filter.

    Args:
        x: ``(samples,)`` or ``(samples, channels)``, resampled along the first axis.
        orig_sr, target_sr: positive integer rates in Hz.

    Returns:
        float32, ``ceil(samples * target_sr / orig_sr)`` samples along the first axis; ``x`` itself
        (as float32) when the rates are equal.
    """
    up, down = _ratio(orig_sr, target_sr)
    x = np.asarray(x, dtype=np.float32)
    if up == down:
        return x
    from scipy.signal import resample_poly  # costs ~0.2-3 s cold; only when a rate really differs

    return resample_poly(x, up, down, axis=0).astype(np.float32, copy=False)


def _check_rate(sample_rate) -> None:
    positive_int(sample_rate, name="sample_rate (Hz)")


def _check_finite(x: np.ndarray, path) -> np.ndarray:
    if not np.isfinite(x).all():
        raise AudioError("contains NaN or infinite samples (corrupt float audio)", path=path)
    return x


def load_audio(
    path,
    *,
    sample_rate: int = SAMPLE_RATE,
    mono: bool = True,
    offset: float = 0.0,
    duration: Optional[float] = None,
) -> np.ndarray:
    """Decode ``path`` to a float32 waveform at ``sample_rate`` Hz.

    Args:
        path: any file libsndfile reads (see module docstring).
        sample_rate: output rate in Hz; the file is resampled to it when it differs.
        mono: average the channels (``(samples,)`` output); ``False`` keeps ``(samples, channels)``.
        offset: start reading this many seconds into the file (>= 0).
        duration: read at most this many seconds (> 0); ``None`` reads to the end.

    Returns:
        float32 ``(samples,)`` (or ``(samples, channels)``), integer formats scaled to [-1, 1).
        Float files are returned as stored (they may exceed 1.0; nothing is clipped).

    Raises:
        AudioError: missing, unreadable or empty file, ``offset`` past the end, NaN/inf samples.
        ParameterError: negative ``offset``, non-positive ``duration`` or ``sample_rate``.
    """
    path = os.fspath(path)
    offset = number_at_least(offset, name="offset (seconds)", low=0.0)
    if duration is not None:
        duration = number_at_least(duration, name="duration (seconds, or None)", low=0.0, strict=True)
    _check_rate(sample_rate)
    info = probe_audio(path)
    start = int(round(offset * info.sample_rate))
    if start >= info.frames:
        raise AudioError(
            f"offset {offset} s is past the end of the file ({info.duration:.3f} s)", path=path
        )
    stop = None
    if duration is not None:
        stop = min(info.frames, start + int(round(duration * info.sample_rate)))
    try:
        x, _ = sf.read(path, start=start, stop=stop, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise _open_error(path, err) from None
    if x.shape[0] == 0:
        raise AudioError(f"decoded to 0 samples; expected {EXPECTED_AUDIO}", path=path)
    x = _check_finite(x, path)
    x = to_mono(x) if mono else x
    try:
        return resample(x, orig_sr=info.sample_rate, target_sr=sample_rate)
    except ParameterError as err:  # the file's own rate: an error about the file, naming it
        raise AudioError(str(err), path=path) from None


def check_training_clip(path, info: AudioInfo, *, max_seconds: float = MAX_CLIP_SECONDS,
                        block_frames: int = 1 << 18) -> None:
    """Refuse a clip a training corpus cannot hold: longer than ``max_seconds``, or float samples
    that are NaN or infinite.

    Integer formats cannot hold NaN, so only float files are read, ``block_frames`` frames at a
    time (bounded memory). The pipeline decodes clips lazily, inside ``tf.data``, where an error
    would stop training mid-epoch: checking here, while the corpus is probed, skips the file
    with a reason instead.

    Args:
        path: the file; info: its header (``probe_audio``).
        max_seconds: the longest clip accepted (``MAX_CLIP_SECONDS``, 600 s).

    Raises:
        AudioError: too long (names the duration and the limit), or NaN/Inf samples.
    """
    path = os.fspath(path)
    if info.duration > max_seconds:
        raise AudioError(
            f"lasts {info.duration:.0f} s, longer than the {max_seconds:g} s a training clip may "
            "last (cut it into utterances; audio_test.py --file reads long recordings)", path=path)
    if info.subtype not in ("FLOAT", "DOUBLE"):
        return
    try:
        for block in sf.blocks(path, blocksize=block_frames, dtype="float32", always_2d=True):
            _check_finite(block, path)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise _open_error(path, err) from None


def _filter_margin(up: int, down: int) -> int:
    """Input samples on each side that resample_poly's filter reaches, rounded up, plus one."""
    return int(math.ceil(_POLY_HALF_TAPS * max(up, down) / up)) + 1


def iter_blocks(
    path,
    *,
    block_seconds: float,
    hop_seconds: Optional[float] = None,
    sample_rate: int = SAMPLE_RATE,
) -> Iterator[Tuple[float, np.ndarray]]:
    """Read a long recording block by block, mono and resampled, in bounded memory.

    Block ``k`` covers output samples ``[k * hop, k * hop + block)`` of the whole file resampled to
    ``sample_rate`` (``block = round(block_seconds * sample_rate)``, likewise ``hop``).

    Resampling at block edges: each block is read with filter context on both sides and the
    context is trimmed after resampling. The read starts on a multiple of ``down`` input samples
    (``up / down`` = ``sample_rate / file rate`` in lowest terms), so the resampled segment sits on
    the same output grid as the whole file, and the context is wider than the polyphase filter's
    reach. Each block therefore equals the matching slice of ``load_audio(path)`` up to float
    rounding -- no edge clicks, no drift. Memory is ``O(block + context)``.

    Iteration stops after the first block that reaches the end of the file; that last block may be
    shorter than ``block`` (callers pad it). A file shorter than one block yields one short block.

    Yields:
        ``(start_seconds, block)``: the block's start in seconds and a float32 ``(samples,)`` array.

    Raises:
        AudioError: missing, unreadable or empty file (raised on the first ``next()``).
        ParameterError: non-positive ``block_seconds`` / ``hop_seconds`` / ``sample_rate``.
    """
    path = os.fspath(path)
    if not block_seconds > 0:
        raise ParameterError(f"block_seconds must be > 0, got {block_seconds!r}")
    hop_seconds = block_seconds if hop_seconds is None else hop_seconds
    if not hop_seconds > 0:
        raise ParameterError(f"hop_seconds must be > 0, got {hop_seconds!r}")
    _check_rate(sample_rate)
    info = probe_audio(path)
    up, down = _ratio(info.sample_rate, sample_rate)
    block = max(1, int(round(block_seconds * sample_rate)))
    hop = max(1, int(round(hop_seconds * sample_rate)))
    total_out = -(-info.frames * up // down)  # resample_poly's output length: ceil(frames*up/down)
    margin = 0 if up == down else _filter_margin(up, down)

    try:
        with sf.SoundFile(path) as f:
            j0 = 0
            while j0 < total_out:
                j1 = min(j0 + block, total_out)
                # Input samples [a, b) cover output [j0, j1) plus the filter's reach on each side;
                # a is aligned down to a multiple of `down` so output index a*up/down is integral.
                a = max(0, (j0 * down // up - margin) // down * down)
                b = min(info.frames, -(-j1 * down // up) + margin)
                f.seek(a)
                x = _check_finite(to_mono(f.read(b - a, dtype="float32", always_2d=True)), path)
                if up != down:
                    x = resample(x, orig_sr=info.sample_rate, target_sr=sample_rate)
                first = j0 - a * up // down
                yield j0 / sample_rate, np.ascontiguousarray(x[first:first + (j1 - j0)])
                if j0 + block >= total_out:
                    break
                j0 += hop
    except (sf.LibsndfileError, RuntimeError) as err:
        raise _open_error(path, err) from None
