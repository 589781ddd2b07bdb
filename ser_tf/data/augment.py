"""Waveform augmentation for the training split, in pure TensorFlow so it runs inside tf.data.

This module owns the ``augment`` config (validation, order, seeds, probabilities); the transforms
themselves are in ``ser_tf.data.waveform_ops`` and re-exported here.

Every transform takes and returns a float32 mono waveform of shape ``(samples,)``. The pipeline
calls :func:`augment_waveform` on one fixed-length training example; each transform switched on in
``config["augment"]`` is applied with probability ``p`` (default 0.5), with its random parameters
drawn from stateless ops seeded per example, so a run is reproducible for a given seed.

Pitch shift and time stretch use a phase vocoder on a ``tf.signal`` STFT (librosa's algorithm,
with phases anchored inside the signal rather than on a padding frame, see :func:`time_stretch`):
the stretch changes duration by ``1 / rate`` at constant pitch; the pitch shift stretches by the
pitch ratio then resamples back to the original length (librosa's recipe), so F0 moves by
``2 ** (semitones / 12)`` at constant duration. Like every plain phase vocoder, it smears sharp
transients by up to ~20 ms -- harmless for augmentation. Speed perturbation (Kaldi's and
SpeechBrain's) is plain resampling instead: played back at the same rate, a clip resampled to
``1 / rate`` of its length is ``rate`` times faster AND higher, like a tape played fast -- it is
then cut or padded back to the example's length. The gain scales by ``10 ** (dB / 20)``; the noise
has a fixed standard deviation, or an SNR drawn relative to the example's own RMS. Babble (other
people talking, :func:`add_babble`) sums a few rows of a bank of other training clips, each
circularly shifted, and mixes the sum in at an SNR drawn relative to the example's RMS; the bank is
built by the pipeline (``ser_tf.data.pipeline.build_babble_bank``) from the training split only, so
no validation or test speaker is ever heard. SpecAugment is not here: it is a Keras layer
(``ser_tf.layers.spec_augment``) that works on spectrograms inside the model.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional

import tensorflow as tf

from ser_tf.constants import SAMPLE_RATE
from ser_tf.data.cropping import fix_length
from ser_tf.data.waveform_ops import (  # re-exported: the transforms are part of this module's API
    add_babble, add_noise, add_noise_at_snr, apply_gain, bandpass, pitch_shift, speed_perturb, time_shift,
    time_stretch,
)
from ser_tf.errors import ConfigError
from ser_tf.settings.sections import (
    BabbleAugment, BandpassAugment, GainAugment, NoiseAugment, PitchAugment, ShiftAugment, SpeedAugment,
    StretchAugment,
)

__all__ = [
    "add_noise",
    "add_noise_at_snr",
    "add_babble",
    "apply_gain",
    "speed_perturb",
    "time_shift",
    "time_stretch",
    "pitch_shift",
    "bandpass",
    "validate_augment_config",
    "augment_waveform",
]

# Nothing here branches on tensors in Python (tf.cond is explicit), so AutoGraph has nothing to
# convert; skipping its source transformation saves seconds of tracing per tf.data pipeline.
_no_autograph = tf.autograph.experimental.do_not_convert

# The waveform transforms (ser_tf.data.waveform_ops), in the order augment_waveform applies them: signal
# changes first (speed first of all: it stands for the talker's own rate, as Kaldi perturbs the
# recording before anything else; stretch and pitch then vary tempo and pitch apart), then the
# filter, the shift, the gain, and the additive noise last (noise should not be pitch-shifted or
# filtered away, and a fixed-stddev noise should not be scaled by the gain): babble (other talkers
# in the room) before the white noise (the microphone's own).
TRANSFORMS = ("speed", "stretch", "pitch", "bandpass", "shift", "gain", "babble", "noise")

# Each transform's slot in the per-example seeds, independent of the order above. Append new
# transforms at the end, never reorder: stateless_split draws its rows from a counter-based
# generator, so extra slots leave the earlier rows -- and the draws of the older transforms for a
# given seed -- unchanged (tests/data/test_augment.py checks this against recorded outputs).
_SEED_SLOTS = ("stretch", "pitch", "bandpass", "shift", "noise", "speed", "gain", "babble")

# The typed section of each transform: it fills a missing key with its default and refuses an
# unknown key or a value of the wrong type (ser_tf.settings owns the defaults).
_SECTIONS = {
    "noise": NoiseAugment,
    "shift": ShiftAugment,
    "pitch": PitchAugment,
    "stretch": StretchAugment,
    "bandpass": BandpassAugment,
    "speed": SpeedAugment,
    "gain": GainAugment,
    "babble": BabbleAugment,
}


def _number(section: str, key: str, value, *, low: float = 0.0,
            low_inclusive: bool = True) -> float:
    name = f"augment.{section}.{key}"
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not (value >= low if low_inclusive else value > low) or not math.isfinite(value):
        raise ConfigError(f"{name} must be {'>=' if low_inclusive else '>'} {low}, got {value!r}")
    return value


def _finite(section: str, key: str, value) -> float:
    name = f"augment.{section}.{key}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return number


def _rates(section: str, merged: Mapping) -> dict:
    lo = _number(section, "min_rate", merged["min_rate"], low_inclusive=False)
    hi = _number(section, "max_rate", merged["max_rate"], low_inclusive=False)
    if lo > hi:
        raise ConfigError(f"augment.{section}.min_rate ({lo}) must be <= max_rate ({hi})")
    return {"min_rate": lo, "max_rate": hi}


def _snr_range(value, section: str = "noise") -> Optional[tuple]:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"augment.{section}.snr_db must be a [min, max] pair in dB"
                          f"{' or null' if section == 'noise' else ''}, got {value!r}")
    lo, hi = (_finite(section, "snr_db", v) for v in value)
    if lo > hi:
        raise ConfigError(f"augment.{section}.snr_db must satisfy min <= max, got {list(value)!r}")
    return lo, hi


def _integer(section: str, key: str, value, *, low: int) -> int:
    name = f"augment.{section}.{key}"
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _babble(merged: Mapping) -> dict:
    if merged["snr_db"] is None:
        raise ConfigError("augment.babble.snr_db must be a [min, max] pair in dB, got None")
    talkers = merged["talkers"]
    if not isinstance(talkers, (list, tuple)) or len(talkers) != 2:
        raise ConfigError(f"augment.babble.talkers must be a [min, max] pair of integers, "
                          f"got {talkers!r}")
    lo, hi = (_integer("babble", "talkers", v, low=1) for v in talkers)
    if lo > hi:
        raise ConfigError(f"augment.babble.talkers must satisfy min <= max, got {list(talkers)!r}")
    bank_size = _integer("babble", "bank_size", merged["bank_size"], low=hi)
    return {"snr_db": _snr_range(merged["snr_db"], "babble"), "talkers": (lo, hi),
            "bank_size": bank_size}


def _range(section: str, key: str, value, *, nyquist: float) -> tuple:
    name = f"augment.{section}.{key}"
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{name} must be a [min, max] pair in Hz, got {value!r}")
    lo, hi = (_number(section, key, v) for v in value)
    if lo > hi or hi > nyquist:
        raise ConfigError(f"{name} must satisfy 0 <= min <= max <= {nyquist} Hz, got {value!r}")
    return lo, hi


def validate_augment_config(augment_config: Mapping, *, sample_rate: int = SAMPLE_RATE) -> dict:
    """Check the ``augment`` section and return the enabled waveform transforms with their settings.

    Args:
        augment_config: an ``ser_tf.settings.AugmentConfig``, or a mapping of some of its
            sections (a section given as a mapping takes the defaults of the keys it lacks).
        sample_rate: Hz; the band-pass cutoffs must stay below its Nyquist frequency.

    Sections absent or with ``enabled: false`` are left out; ``specaugment`` (a model layer) and
    unknown sections are ignored here. Every section has ``p`` (probability, default 0.5).
    ``noise.snr_db`` (``[min, max]`` dB, or null) replaces ``noise.stddev`` when set.
    ``babble`` needs ``snr_db`` (``[min, max]`` dB), ``talkers`` (``[min, max]`` integers >= 1) and
    ``bank_size`` (an integer >= the most talkers).

    Returns:
        ``{name: {"enabled": True, "p": float, ...parameters}}`` for each enabled transform, in
        application order.

    Raises:
        ConfigError: a value of the wrong kind or out of range, named by its dotted key.
    """
    out = {}
    for name in TRANSFORMS:
        section = (augment_config or {}).get(name) or {}
        if not isinstance(section, Mapping):
            raise ConfigError(f"augment.{name} must be a mapping, got {section!r}")
        if not section.get("enabled", False):
            continue
        merged = _SECTIONS[name].from_mapping(section)
        p = _number(name, "p", merged["p"])
        if p > 1:
            raise ConfigError(f"augment.{name}.p must be a probability in [0, 1], got {p!r}")
        params = {"enabled": True, "p": p}  # a valid config section again: validation is idempotent
        if name == "noise":
            params["stddev"] = _number(name, "stddev", merged["stddev"])
            params["snr_db"] = _snr_range(merged["snr_db"])
        elif name == "shift":
            params["max_seconds"] = _number(name, "max_seconds", merged["max_seconds"])
        elif name == "pitch":
            params["max_semitones"] = _number(name, "max_semitones", merged["max_semitones"])
        elif name in ("stretch", "speed"):
            params.update(_rates(name, merged))
        elif name == "gain":
            lo = _finite(name, "min_db", merged["min_db"])
            hi = _finite(name, "max_db", merged["max_db"])
            if lo > hi:
                raise ConfigError(f"augment.gain.min_db ({lo}) must be <= max_db ({hi})")
            params.update(min_db=lo, max_db=hi)
        elif name == "bandpass":
            nyquist = sample_rate / 2.0
            low = _range(name, "low_hz", merged["low_hz"], nyquist=nyquist)
            high = _range(name, "high_hz", merged["high_hz"], nyquist=nyquist)
            if low[1] >= high[0]:
                raise ConfigError(
                    f"augment.bandpass: low_hz {list(low)} must lie below high_hz {list(high)}"
                )
            params.update(low_hz=low, high_hz=high)
        elif name == "babble":
            params.update(_babble(merged))
        out[name] = params
    return out


def _draw(name: str, cfg: Mapping, *, seed, n, sample_rate: int, babble_bank=None):
    """Draw the random parameters of transform ``name`` from ``seed``; return ``x -> x'``."""
    def uniform(lo, hi, dtype=tf.float32, shape=()):
        return tf.random.stateless_uniform(shape, seed=seed, minval=lo, maxval=hi, dtype=dtype)

    if name == "speed":
        rate = uniform(cfg["min_rate"], cfg["max_rate"])
        return lambda x: fix_length(speed_perturb(x, rate=rate), n)  # centre crop / pad
    if name == "gain":
        db = uniform(cfg["min_db"], cfg["max_db"])
        return lambda x: apply_gain(x, db=db)
    if name == "stretch":
        rate = uniform(cfg["min_rate"], cfg["max_rate"])
        return lambda x: fix_length(time_stretch(x, rate=rate), n)  # centre crop / pad
    if name == "pitch":
        steps = uniform(-cfg["max_semitones"], cfg["max_semitones"])
        return lambda x: pitch_shift(x, semitones=steps)
    if name == "bandpass":
        (low_lo, low_hi), (high_lo, high_hi) = cfg["low_hz"], cfg["high_hz"]
        u = uniform(0.0, 1.0, shape=(2,))
        low, high = low_lo + u[0] * (low_hi - low_lo), high_lo + u[1] * (high_hi - high_lo)
        return lambda x: bandpass(x, low_hz=low, high_hz=high, sample_rate=sample_rate)
    if name == "shift":
        m = int(round(cfg["max_seconds"] * sample_rate))
        shift = uniform(-m, m + 1, dtype=tf.int32)
        return lambda x: time_shift(x, shift=shift)
    if name == "noise":
        if cfg.get("snr_db") is None:
            return lambda x: add_noise(x, stddev=cfg["stddev"], seed=seed)
        snr_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
        lo, hi = cfg["snr_db"]
        snr = tf.random.stateless_uniform([], seed=snr_seed, minval=lo, maxval=hi)
        return lambda x: add_noise_at_snr(x, snr_db=snr, seed=noise_seed)
    if name == "babble":
        count_seed, snr_seed, mix_seed = tf.unstack(
            tf.random.experimental.stateless_split(seed, num=3))
        lo, hi = cfg["talkers"]
        talkers = tf.random.stateless_uniform([], seed=count_seed, minval=lo, maxval=hi + 1,
                                              dtype=tf.int32)
        snr = tf.random.stateless_uniform([], seed=snr_seed, minval=cfg["snr_db"][0],
                                          maxval=cfg["snr_db"][1])
        return lambda x: add_babble(x, bank=babble_bank, talkers=talkers, snr_db=snr,
                                    seed=mix_seed, max_talkers=hi)
    raise ValueError(f"unknown transform {name!r}")  # unreachable: names come from TRANSFORMS


@_no_autograph
def augment_waveform(
    x: tf.Tensor, *, augment_config: Mapping, seed, sample_rate: int = SAMPLE_RATE,
    babble_bank: Optional[tf.Tensor] = None,
) -> tf.Tensor:
    """Randomly augment one training waveform.

    Args:
        x: float32 ``(samples,)`` in [-1, 1].
        augment_config: ``config["augment"]``, validated here (once, when the graph is traced).
        seed: shape ``[2]`` integer tensor; the same seed gives the same output.
        sample_rate: rate of ``x`` in Hz (for the shift in seconds and the filter cutoffs).
        babble_bank: float32 ``(rows, samples)`` training clips of RMS 1, ``samples`` the length
            of ``x``; required when ``babble`` is enabled (``make_dataset`` builds it), else unused.

    Returns:
        float32 ``(samples,)``, same length as ``x``, clipped to [-1, 1].

    Raises:
        ConfigError: a bad ``augment_config``, or ``babble`` enabled without ``babble_bank``.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    static_shape = x.shape
    enabled = validate_augment_config(augment_config, sample_rate=sample_rate)  # trace time only
    if not enabled:
        return x
    if "babble" in enabled and babble_bank is None:
        raise ConfigError("augment.babble.enabled needs a bank of training clips (babble_bank=...); "
                          "make_dataset(..., training=True) builds it from the split it is given")
    n = tf.shape(x)[0]
    # One (gate, parameter) seed pair per transform, fixed by its slot in _SEED_SLOTS so that
    # switching one transform on or off does not change the draws of the others.
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64),
                                                   num=2 * len(_SEED_SLOTS))

    for name in TRANSFORMS:
        if name not in enabled:
            continue
        i = _SEED_SLOTS.index(name)
        gate = tf.random.stateless_uniform([], seed=seeds[2 * i])
        transform = _draw(name, enabled[name], seed=seeds[2 * i + 1], n=n, sample_rate=sample_rate,
                          babble_bank=babble_bank)
        # tf.cond skips the cost of a transform that is not drawn (the phase vocoder is not free).
        x = tf.cond(gate < enabled[name]["p"], lambda f=transform, x=x: f(x), lambda x=x: x)
        x.set_shape(static_shape)
    return tf.clip_by_value(x, -1.0, 1.0)
