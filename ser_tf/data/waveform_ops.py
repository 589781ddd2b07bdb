"""The waveform transforms of training-time augmentation, in pure TensorFlow (they run in tf.data).

Each takes and returns a float32 mono waveform ``(samples,)``; random parameters are arguments
(drawn by ``ser_tf.data.augment``, which owns the config, the order and the seeds). See
``ser_tf.data.augment`` for what each transform does and why.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from ser_tf.constants import SAMPLE_RATE
from ser_tf.errors import ParameterError

__all__ = ["add_noise", "add_noise_at_snr", "add_babble", "apply_gain", "speed_perturb", "time_shift",
           "time_stretch", "pitch_shift", "bandpass", "PV_N_FFT", "PV_HOP"]

# Nothing here branches on tensors in Python (tf.cond is explicit), so AutoGraph has nothing to
# convert; skipping its source transformation saves seconds of tracing per tf.data pipeline.
_no_autograph = tf.autograph.experimental.do_not_convert

# Phase-vocoder framing at 16 kHz: 32 ms windows (16 Hz bins, enough to separate the harmonics of
# a voice) with an 8 ms hop (75 % Hann overlap, so the overlap-add of modified frames is smooth).
PV_N_FFT = 512
PV_HOP = 128

@_no_autograph
def add_noise(x: tf.Tensor, *, stddev: float, seed) -> tf.Tensor:
    """``x`` plus white Gaussian noise of standard deviation ``stddev`` (waveform units)."""
    return x + tf.random.stateless_normal(tf.shape(x), seed=seed, stddev=stddev, dtype=x.dtype)


@_no_autograph
def add_noise_at_snr(x: tf.Tensor, *, snr_db, seed) -> tf.Tensor:
    """``x`` plus white Gaussian noise ``snr_db`` dB below the RMS of ``x`` itself.

    The noise's standard deviation is ``rms(x) * 10 ** (-snr_db / 20)``, so the expected SNR is
    ``snr_db`` (measured over the whole clip). A silent clip (RMS 0) gets no noise at all: there is
    no level to be relative to, and the output equals the input.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    rms = tf.sqrt(tf.reduce_mean(tf.square(x)))
    stddev = rms * tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 20.0)
    return x + stddev * tf.random.stateless_normal(tf.shape(x), seed=seed, dtype=x.dtype)


@_no_autograph
def add_babble(x: tf.Tensor, *, bank: tf.Tensor, talkers, snr_db, seed,
               max_talkers: Optional[int] = None) -> tf.Tensor:
    """``x`` plus babble: ``talkers`` rows of ``bank``, each circularly shifted, summed, and mixed
    in ``snr_db`` dB below the RMS of ``x`` itself.

    Args:
        x: float32 ``(samples,)``.
        bank: float32 ``(rows, samples)``, each row a clip of RMS 1 (see
            ``ser_tf.data.pipeline.build_babble_bank``). The example's own clip may be one of the
            rows and be drawn: it is the same speaker's training audio, shifted, so nothing leaks.
        talkers: number of talkers >= 1 (Python int or int32 scalar tensor, <= ``max_talkers``).
        snr_db: SNR in dB of ``x`` over the babble (float or scalar tensor).
        seed: shape ``[2]`` integer tensor: draws the rows (uniformly, with replacement) and the
            shifts (uniform in ``[0, samples)``).
        max_talkers: static upper bound of ``talkers``; default ``talkers`` (then a Python int).

    Returns:
        float32 ``(samples,)``, not clipped. A silent ``x`` (RMS 0) is returned unchanged, as in
        :func:`add_noise_at_snr`; the SNR is measured over the whole clip.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    bank = tf.convert_to_tensor(bank, tf.float32)
    if bank.shape.rank != 2:
        raise ParameterError(f"add_babble: bank must be (rows, samples), got shape {bank.shape}")
    if bank.shape[1] is not None and x.shape[0] is not None and bank.shape[1] != x.shape[0]:
        raise ParameterError(f"add_babble: bank rows hold {bank.shape[1]} samples but the example "
                             f"has {x.shape[0]}")
    if max_talkers is None:
        max_talkers = int(talkers)
    n = tf.shape(x)[0]
    row_seed, shift_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    rows = tf.random.stateless_uniform([max_talkers], seed=row_seed, minval=0,
                                       maxval=tf.shape(bank)[0], dtype=tf.int32)
    shifts = tf.random.stateless_uniform([max_talkers], seed=shift_seed, minval=0, maxval=n,
                                         dtype=tf.int32)
    # Row j shifted right by shifts[j] (circularly): sample t comes from (t - shift) mod n. One
    # roll per talker moves the samples; a gather through an index matrix cost 6x more.
    voices = tf.stack([tf.roll(bank[rows[j]], shifts[j], axis=0)
                       for j in range(max_talkers)])  # (max_talkers, samples)
    used = tf.cast(tf.range(max_talkers) < tf.cast(talkers, tf.int32), tf.float32)
    noise = tf.reduce_sum(voices * used[:, None], axis=0)
    rms = tf.sqrt(tf.reduce_mean(tf.square(x)))
    noise_rms = tf.sqrt(tf.reduce_mean(tf.square(noise)))
    gain = tf.math.divide_no_nan(rms, noise_rms) * tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 20.0)
    return x + gain * noise


@_no_autograph
def apply_gain(x: tf.Tensor, *, db) -> tf.Tensor:
    """``x`` times ``10 ** (db / 20)`` (``db`` in dB, either sign); not clipped here."""
    return x * tf.pow(10.0, tf.cast(db, x.dtype) / 20.0)


@_no_autograph
def speed_perturb(x: tf.Tensor, *, rate) -> tf.Tensor:
    """Speed perturbation: ``rate`` times faster AND higher (> 1), or slower and lower (< 1).

    Band-limited resampling of ``x`` to ``round(samples / rate)`` samples, played back at the same
    sample rate: every frequency is multiplied by ``rate`` and every duration divided by it (Kaldi's
    and SpeechBrain's speed perturbation, unlike :func:`time_stretch` or :func:`pitch_shift`).

    Args:
        x: float32 ``(samples,)``.
        rate: speed factor > 0 (Python float or scalar tensor).

    Returns:
        float32 ``(round(samples / rate),)``; :func:`augment_waveform` fixes the length back.
    """
    if isinstance(rate, (int, float)) and not rate > 0:
        raise ParameterError(f"speed_perturb rate must be > 0, got {rate!r}")
    x = tf.convert_to_tensor(x, tf.float32)
    n = tf.cast(tf.shape(x)[0], tf.float32)
    length = tf.maximum(tf.cast(tf.round(n / tf.cast(rate, tf.float32)), tf.int32), 1)
    return _resample_fft(x, length)


@_no_autograph
def time_shift(x: tf.Tensor, *, shift) -> tf.Tensor:
    """Delay ``x`` by ``shift`` samples (negative: advance), filling with zeros -- no wrap-around.

    The output has the length of ``x``; ``|shift| >= len(x)`` gives all zeros.
    """
    n = tf.shape(x)[0]
    shift = tf.clip_by_value(tf.cast(shift, tf.int32), -n, n)
    padded = tf.pad(x, [[n, n]])
    return padded[n - shift:2 * n - shift]


@_no_autograph
def time_stretch(
    x: tf.Tensor, *, rate, n_fft: int = PV_N_FFT, hop_length: int = PV_HOP
) -> tf.Tensor:
    """Phase-vocoder time stretch: speed up by ``rate`` (> 1 shorter, < 1 longer), same pitch.

    Args:
        x: float32 ``(samples,)``.
        rate: speed factor > 0 (Python float or scalar tensor).
        n_fft, hop_length: STFT framing in samples.

    Returns:
        float32 ``(round(samples / rate),)``.
    """
    if isinstance(rate, (int, float)) and not rate > 0:
        raise ParameterError(f"time_stretch rate must be > 0, got {rate!r}")
    x = tf.convert_to_tensor(x, tf.float32)
    rate = tf.cast(rate, tf.float32)
    n = tf.shape(x)[0]
    # Pad by a whole window each side so every real sample is covered by fully overlapping frames
    # (the inverse window is exact there); the padding is trimmed from the output below.
    xp = tf.pad(x, [[n_fft, n_fft]])
    spec = tf.signal.stft(xp, frame_length=n_fft, frame_step=hop_length, fft_length=n_fft,
                          window_fn=tf.signal.hann_window, pad_end=True)  # (frames, bins)
    n_frames = tf.shape(spec)[0]
    steps = tf.range(0.0, tf.cast(n_frames, tf.float32), rate)  # fractional input frame per output
    spec = tf.pad(spec, [[0, 2], [0, 0]])
    index = tf.cast(tf.floor(steps), tf.int32)
    alpha = (steps - tf.floor(steps))[:, None]
    left, right = tf.gather(spec, index), tf.gather(spec, index + 1)
    magnitude = (1.0 - alpha) * tf.abs(left) + alpha * tf.abs(right)
    # Output and input frames share one hop, so each output frame advances every bin's phase by
    # the phase difference measured between the two input frames it interpolates. librosa adds
    # the expected advance and the wrapped deviation from it: the same angle modulo 2 pi. One
    # atan2 of the product instead of two keeps this cheap.
    increment = tf.math.angle(right * tf.math.conj(left))
    running = tf.cumsum(increment, axis=0, exclusive=True)
    # Anchor the phases on the first output frame whose source frame lies wholly inside the signal.
    # (librosa anchors on frame 0, which here is all padding: its phases are arbitrary, the bins
    # of one partial then add incoherently and a steady sine loses ~20 % of its amplitude.)
    first_inside = tf.cast(tf.math.ceil((n_fft // hop_length) / rate), tf.int32)
    anchor = tf.minimum(first_inside, tf.shape(steps)[0] - 1)
    phase = tf.math.angle(left[anchor])[None, :] + running - running[anchor][None, :]
    stretched = tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))
    y = tf.signal.inverse_stft(stretched, frame_length=n_fft, frame_step=hop_length,
                               fft_length=n_fft,
                               window_fn=tf.signal.inverse_stft_window_fn(hop_length))
    # Output frame t (window centre t*hop + n_fft/2) carries input frame t*rate (centre
    # t*rate*hop + n_fft/2), so padded input time u maps to (u - n_fft/2) / rate + n_fft/2 and the
    # first real sample (u = n_fft) lands here:
    start = tf.cast(tf.round(n_fft / 2 / rate + n_fft / 2), tf.int32)
    length = tf.cast(tf.round(tf.cast(n, tf.float32) / rate), tf.int32)
    y = y[start:start + length]
    return tf.pad(y, [[0, length - tf.shape(y)[0]]])


@_no_autograph
def pitch_shift(x: tf.Tensor, *, semitones) -> tf.Tensor:
    """Shift the pitch of ``x`` by ``semitones`` (may be fractional or negative), same length.

    Stretches by the pitch ratio ``r = 2 ** (semitones / 12)`` (the clip becomes ``r`` times
    longer at the same pitch), then resamples those ``round(len * r)`` samples to ``len`` samples
    (band-limited, in the FFT domain), which multiplies every frequency by ``r``.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    n = tf.shape(x)[0]
    ratio = tf.pow(2.0, tf.cast(semitones, tf.float32) / 12.0)
    stretched = time_stretch(x, rate=1.0 / ratio)
    return _resample_fft(stretched, n)


@_no_autograph
def _resample_fft(x: tf.Tensor, n) -> tf.Tensor:
    """Band-limited resampling of ``x`` to ``n`` samples over the same span (FFT truncation or
    zero-padding: exact anti-aliasing when shrinking, two FFTs instead of a resampling kernel)."""
    m = tf.shape(x)[0]
    spectrum = tf.signal.rfft(x, fft_length=[m])
    bins = n // 2 + 1
    kept = spectrum[:bins]
    kept = tf.pad(kept, [[0, bins - tf.shape(kept)[0]]])
    scale = tf.cast(n, tf.float32) / tf.cast(m, tf.float32)
    return tf.signal.irfft(kept, fft_length=[n]) * scale


@_no_autograph
def bandpass(x: tf.Tensor, *, low_hz, high_hz, sample_rate: int = SAMPLE_RATE) -> tf.Tensor:
    """Keep only the band ``[low_hz, high_hz]`` of ``x`` (FFT-domain brick-wall mask).

    The whole clip is filtered at once (one real FFT), so the filter is zero-phase and exact in the
    frequency domain; its time-domain ringing is bounded to the clip (circular). Cutoffs in Hz.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    n = tf.shape(x)[0]
    spectrum = tf.signal.rfft(x, fft_length=[n])
    bin_hz = float(sample_rate) / tf.cast(n, tf.float32)
    freqs = tf.cast(tf.range(n // 2 + 1), tf.float32) * bin_hz
    keep = (freqs >= tf.cast(low_hz, tf.float32)) & (freqs <= tf.cast(high_hz, tf.float32))
    return tf.signal.irfft(spectrum * tf.cast(keep, spectrum.dtype), fft_length=[n])
