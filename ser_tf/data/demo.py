"""Synthesis of the demo corpus: speech-like clips whose prosody depends on the emotion label.

The corpus around it (cache folder, marker, scanning) is ``ser_tf.data.corpora.demo``; this module
only makes the sound and writes the WAV files. It is *not* emotional speech: a classifier trained on
it learns the rules written below, nothing about people.

Each clip is a string of syllables: a glottal pulse train (Rosenberg pulses with per-cycle jitter
and shimmer, a one-pole low-pass for spectral tilt, aspiration noise) through a cascade of five
formant resonators set to a vowel, with an occasional noise burst as a fricative, separated by short
pauses and framed by a little silence. The emotion sets the pitch level, pitch range and contour,
speaking rate, loudness, tilt, voice quality (jitter, shimmer, breathiness); each speaker has its
own base pitch (odd actors male, about 110 Hz; even actors female, about 210 Hz) and vocal-tract
length; every clip draws its own random variation, so classes overlap a little.

Files are 16 kHz 16-bit PCM WAV in RAVDESS naming, ``Actor_XX/03-01-EE-II-SS-RR-XX.wav``, so the
real RAVDESS parser reads them: emotions 01-08, statement and repetition cycle through 01/02, and
clips 5-8 of an emotion (``clips_per_emotion > 4``) use intensity 02 with exaggerated prosody.
Generation is deterministic: the same arguments give the same bytes, and each clip depends only on
``(seed, actor, emotion, clip index)``, so a smaller corpus is a subset of a larger one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf

from ser_tf.constants import SAMPLE_RATE

MAX_SPEAKERS = 24  # RAVDESS actor codes 01-24
MAX_CLIPS_PER_EMOTION = 8  # statement x repetition x intensity


@dataclasses.dataclass(frozen=True)
class Style:
    """Prosody of one emotion, relative to the speaker's neutral voice.

    Attributes:
        f0: factor on the speaker's base F0.
        f0_range: size of pitch accents, semitones.
        rate: syllables per second.
        level_db: RMS level of the speech part, dBFS.
        tilt: one-pole low-pass coefficient in [0, 1) on the source; higher = steeper tilt.
        open_quotient: open fraction of a glottal cycle, (0, 1); low = pressed voice.
        jitter: std of the relative per-cycle F0 perturbation.
        shimmer: std of the per-cycle log-amplitude perturbation.
        breath: aspiration noise level relative to the voiced source.
        contour: ``"fall"`` (declination), ``"rise"`` (rising, question-like) or ``"tremor"``.
    """

    f0: float
    f0_range: float
    rate: float
    level_db: float
    tilt: float
    open_quotient: float
    jitter: float
    shimmer: float
    breath: float
    contour: str = "fall"


# Keyed by RAVDESS emotion code. The values follow the usual acoustic descriptions of acted
# emotions: high arousal (angry, happy, fearful, surprised) = higher, wider pitch, faster, louder,
# flatter spectrum; sad = low, narrow, slow, soft, steep and breathy; disgust = low, slow, creaky.
STYLES = {
    "01": Style(1.00, 2.0, 4.0, -24.0, 0.80, 0.60, 0.005, 0.03, 0.03),  # neutral
    "02": Style(0.95, 1.5, 3.4, -27.0, 0.85, 0.65, 0.004, 0.03, 0.08),  # calm
    "03": Style(1.30, 6.0, 5.0, -19.0, 0.62, 0.50, 0.008, 0.04, 0.03),  # happy
    "04": Style(0.85, 1.0, 2.8, -30.0, 0.92, 0.72, 0.008, 0.05, 0.12),  # sad
    "05": Style(1.35, 4.0, 5.3, -15.0, 0.45, 0.35, 0.012, 0.06, 0.02),  # angry
    "06": Style(1.45, 3.0, 5.6, -21.0, 0.70, 0.55, 0.030, 0.08, 0.10, "tremor"),  # fearful
    "07": Style(0.85, 3.0, 3.0, -24.0, 0.80, 0.45, 0.035, 0.12, 0.04),  # disgust
    "08": Style(1.30, 8.0, 4.4, -19.0, 0.62, 0.50, 0.008, 0.04, 0.03, "rise"),  # surprised
}
EMOTION_CODES = tuple(STYLES)

# Vowel formants F1-F5 (Hz) of an adult male voice (Peterson & Barney style F1-F3).
VOWELS = np.array(
    [
        [730, 1090, 2440, 3400, 4500],  # a
        [270, 2290, 3010, 3600, 4600],  # i
        [300, 870, 2240, 3300, 4400],  # u
        [530, 1840, 2480, 3500, 4500],  # e
        [570, 840, 2410, 3300, 4400],  # o
        [660, 1720, 2410, 3400, 4500],  # ae
        [490, 1350, 1690, 3300, 4400],  # er
    ],
    dtype=np.float64,
)
BANDWIDTHS = np.array([80.0, 100.0, 140.0, 220.0, 320.0])  # Hz, F1-F5


def clip_name(*, actor: int, emotion: str, index: int) -> str:
    """RAVDESS-style relative path of clip ``index`` (0-based) of ``emotion`` by ``actor``."""
    statement, repetition, intensity = index % 2 + 1, index // 2 % 2 + 1, index // 4 + 1
    return (
        f"Actor_{actor:02d}/03-01-{emotion}-{intensity:02d}-{statement:02d}-{repetition:02d}-"
        f"{actor:02d}.wav"
    )


def _exaggerate(style: Style, factor: float) -> Style:
    """Move a style's numbers away from neutral by ``factor`` (strong intensity)."""
    base = STYLES["01"]
    fields = {}
    for f in dataclasses.fields(Style):
        v = getattr(style, f.name)
        if isinstance(v, float):
            v = getattr(base, f.name) + factor * (v - getattr(base, f.name))
        fields[f.name] = v
    fields["tilt"] = float(np.clip(fields["tilt"], 0.2, 0.96))
    fields["open_quotient"] = float(np.clip(fields["open_quotient"], 0.25, 0.85))
    fields["jitter"], fields["shimmer"] = max(fields["jitter"], 0.0), max(fields["shimmer"], 0.0)
    return Style(**fields)


def _resonator_cascade(formants: np.ndarray, *, sample_rate: int, bandwidths=BANDWIDTHS):
    """``(b, a)`` of two-pole resonators in cascade (one per formant), unit gain at 0 Hz."""
    r = np.exp(-np.pi * np.asarray(bandwidths) / sample_rate)
    theta = 2 * np.pi * np.minimum(formants, 0.45 * sample_rate) / sample_rate
    a = np.array([1.0])
    for ri, ti in zip(r, theta):
        a = np.convolve(a, [1.0, -2.0 * ri * np.cos(ti), ri * ri])
    return np.array([a.sum()]), a


def _rosenberg(frac: np.ndarray, open_quotient: float) -> np.ndarray:
    """Glottal flow of Rosenberg's pulse at cycle phase ``frac`` in [0, 1)."""
    rise, fall = 0.6 * open_quotient, 0.4 * open_quotient
    return np.where(
        frac < rise,
        0.5 * (1 - np.cos(np.pi * frac / rise)),
        np.where(frac < rise + fall, np.cos(0.5 * np.pi * (frac - rise) / fall), 0.0),
    )


def synthesize_clip(
    *, actor: int, emotion: str, index: int, seed: int, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """One demo clip as float32 samples in [-1, 1], 2.5-3.5 s long.

    Args:
        actor: speaker number, 1-24 (odd male-range pitch, even female-range).
        emotion: RAVDESS emotion code ``"01"``-``"08"``.
        index: clip number within (actor, emotion), 0-7; 4-7 are strong intensity.
        seed: corpus seed.
        sample_rate: Hz.
    """
    from scipy.signal import lfilter  # ~1 s cold: only when generating, not when scanning

    sr = sample_rate
    spk = np.random.default_rng([seed, actor, 0xD3])
    male = actor % 2 == 1
    base_f0 = (110.0 if male else 210.0) * spk.uniform(0.85, 1.15)
    vtl = (1.0 if male else 1.17) * spk.uniform(0.94, 1.06)  # formant scaling
    spk_rate, spk_level = spk.uniform(0.9, 1.1), spk.normal(0.0, 1.0)

    style = STYLES[emotion] if index < 4 else _exaggerate(STYLES[emotion], 1.4)
    rng = np.random.default_rng([seed, actor, int(emotion), index])
    f0 = base_f0 * style.f0 * np.exp(rng.normal(0.0, 0.06))
    f0_range = style.f0_range * rng.uniform(0.75, 1.25)
    rate = style.rate * spk_rate * rng.uniform(0.88, 1.12)
    level_db = style.level_db + spk_level + rng.normal(0.0, 1.5)
    tilt = float(np.clip(style.tilt + rng.normal(0.0, 0.03), 0.2, 0.97))

    # Timeline: leading silence, syllables separated by pauses (one longer phrase break), trailing
    # silence. The statement fixes the vowel sequence, like a sentence repeated.
    total = rng.uniform(2.5, 3.5)
    lead, trail = rng.uniform(0.1, 0.3, size=2)
    speech = total - lead - trail
    n_syl = max(4, int(round(speech * rate)))
    gaps = rng.uniform(0.02, 0.06, size=n_syl - 1)
    gaps[n_syl // 2 - 1] += rng.uniform(0.1, 0.2)
    weights = rng.uniform(0.7, 1.3, size=n_syl)
    durs = (speech - gaps.sum()) * weights / weights.sum()
    starts = lead + np.concatenate([[0.0], np.cumsum(durs[:-1] + gaps)])
    vowels = np.random.default_rng([seed, 7, index % 2]).integers(0, len(VOWELS), size=64)[:n_syl]

    n = int(round(total * sr))
    t = np.arange(n) / sr

    # Pitch contour in semitones, on a 200 Hz grid then interpolated: declination or rise,
    # accents as Gaussian bumps, a slow random drift, and a 7 Hz tremor for fear.
    grid = np.arange(0.0, total + 0.005, 0.005)
    u = np.clip((grid - lead) / speech, 0.0, 1.0)
    if style.contour == "rise":
        st = 0.5 * f0_range * u + 0.5 * f0_range * np.clip((u - 0.8) / 0.2, 0, 1) ** 2
    else:
        st = -2.0 * u - 1.0 * np.clip((u - 0.85) / 0.15, 0, 1)
    accented = rng.random(n_syl) < 0.6
    accented[0] = True
    centres, widths = starts + durs * rng.uniform(0.3, 0.6, n_syl), durs / 2.5
    heights = f0_range * rng.uniform(0.5, 1.0, n_syl) * accented
    st += (heights * np.exp(-0.5 * ((grid[:, None] - centres) / widths) ** 2)).sum(axis=1)
    drift = np.interp(grid, np.linspace(0, total, 8), rng.normal(0.0, 0.3, 8))
    st += drift
    if style.contour == "tremor":
        st += 0.6 * np.sin(2 * np.pi * rng.uniform(6.0, 8.0) * grid)
    f0_t = f0 * 2.0 ** (np.interp(t, grid, st) / 12.0)

    # Glottal source: per-cycle jitter (cycles counted on the unjittered phase), Rosenberg flow,
    # differentiated (lip radiation), per-cycle shimmer, spectral tilt, aspiration noise.
    cycle0 = np.floor(np.cumsum(f0_t) / sr).astype(np.int64)
    f0_t = f0_t * (1.0 + style.jitter * rng.standard_normal(cycle0[-1] + 2)[cycle0])
    phase = np.cumsum(f0_t) / sr
    cycle, frac = np.floor(phase).astype(np.int64), phase % 1.0
    flow = _rosenberg(frac, style.open_quotient)
    shimmer = np.exp(style.shimmer * rng.standard_normal(cycle[-1] + 1))
    source = np.diff(flow, prepend=0.0) * shimmer[cycle]
    source = lfilter([1.0 - tilt], [1.0, -tilt], source)
    source /= np.std(source) + 1e-12
    source += style.breath * 2.0 * rng.standard_normal(n) * (frac < style.open_quotient)

    # Syllables: enveloped source through the vowel's formants (scaled by the speaker's tract),
    # each filtered alone with a short tail so resonances ring out into the pause.
    out = np.zeros(n + int(0.05 * sr))
    for k in range(n_syl):
        s0, s1 = int(starts[k] * sr), int((starts[k] + durs[k]) * sr)
        m = s1 - s0
        env = np.ones(m)
        att, rel = min(int(0.02 * sr), m // 3), min(int(0.04 * sr), m // 3)
        env[:att] = 0.5 * (1 - np.cos(np.pi * np.arange(att) / att))
        env[m - rel :] = 0.5 * (1 + np.cos(np.pi * np.arange(rel) / rel))
        gain = 10 ** ((3.0 * accented[k] - 3.0 * k / n_syl) / 20)
        formants = VOWELS[vowels[k]] * vtl * rng.uniform(0.97, 1.03, VOWELS.shape[1])
        b, a = _resonator_cascade(formants, sample_rate=sr)
        seg = np.concatenate([source[s0:s1] * env * gain, np.zeros(int(0.04 * sr))])
        out[s0 : s0 + len(seg)] += lfilter(b, a, seg)
    voiced_rms = np.sqrt(np.mean(out**2)) + 1e-12

    # Fricative-like noise (band-pass around 3-6 kHz) leading into about half of the syllables.
    for k in np.flatnonzero(rng.random(n_syl) < 0.5):
        m = int(rng.uniform(0.04, 0.08) * sr)
        s0 = max(int(starts[k] * sr) - m // 2, 0)
        centre = np.array([rng.uniform(3000.0, 6000.0)])
        b, a = _resonator_cascade(centre, sample_rate=sr, bandwidths=np.array([1500.0]))
        hiss = lfilter(b, a, np.diff(rng.standard_normal(m + 1))) * np.hanning(m)
        out[s0 : s0 + m] += 0.1 * voiced_rms * hiss / (np.std(hiss) + 1e-12)

    # Loudness: the speech span's RMS set to the style's level, peaks kept below full scale.
    out = out[:n]
    span = out[int(lead * sr) : int((total - trail) * sr)]
    out *= 10 ** (level_db / 20) / (np.sqrt(np.mean(span**2)) + 1e-12)
    peak = np.max(np.abs(out))
    if peak > 0.97:
        out *= 0.97 / peak
    out += rng.normal(0.0, 3e-4, n)  # a faint noise floor: real silence is never digital zero
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def write_clips(folder, *, n_speakers: int, clips_per_emotion: int, seed: int,
                sample_rate: int = SAMPLE_RATE) -> int:
    """Synthesize every clip of a demo corpus into ``folder`` as 16-bit PCM WAV; return the count.

    Args:
        folder: target folder; ``Actor_XX`` subfolders are created in it.
        n_speakers: actors 01..n_speakers (1-24, checked by the caller).
        clips_per_emotion: clips per actor and emotion (1-8, checked by the caller).
        seed: corpus seed.
        sample_rate: Hz.

    Returns:
        The number of files written: ``n_speakers * 8 * clips_per_emotion``.
    """
    folder = Path(folder)
    n = 0
    for actor in range(1, n_speakers + 1):
        for emotion in EMOTION_CODES:
            for index in range(clips_per_emotion):
                path = folder / clip_name(actor=actor, emotion=emotion, index=index)
                path.parent.mkdir(parents=True, exist_ok=True)
                audio = synthesize_clip(
                    actor=actor, emotion=emotion, index=index, seed=seed, sample_rate=sample_rate
                )
                pcm = np.round(audio * 32767.0).astype(np.int16)
                sf.write(path, pcm, sample_rate, subtype="PCM_16", format="WAV")
                n += 1
    return n
