"""Audio constants, defined once and used as defaults everywhere.

Every layer takes these as keyword defaults and records the values it was built with in its
``get_config()``, so a saved model carries its own front-end settings even if these change later.
"""

# Sample rate every model sees, in Hz. Corpora at other rates are resampled to it on load.
SAMPLE_RATE = 16_000

# Default clip length in seconds for the CNN-RNN models (RAVDESS utterances last 3-4 s).
DURATION = 3.0

# Short-time analysis: 25 ms windows with a 10 ms hop, the usual speech framing.
WIN_LENGTH = 400  # samples = 25 ms at 16 kHz
HOP_LENGTH = 160  # samples = 10 ms at 16 kHz
N_FFT = 512  # next power of two >= WIN_LENGTH; 257 frequency bins

# Mel filterbank: 64 bands up to the Nyquist frequency of 16 kHz audio.
N_MELS = 64
FMIN = 0.0
FMAX = 8_000.0

# Log compression: floor added before the log, and the dynamic range kept below the peak (dB).
LOG_FLOOR = 1e-10
TOP_DB = 80.0

# MFCC front-end: 40 coefficients, plus first and second deltas -> 120 features per frame.
N_MFCC = 40
DELTA_WIDTH = 9  # frames in the delta regression window, librosa's default

# Clips shorter than this are rejected by inference: too short to carry prosody (seconds).
MIN_DURATION = 0.5

# Peak absolute amplitude below which a clip counts as digital silence (float scale, [-1, 1]).
SILENCE_PEAK = 1e-4

# Sample rates a file may declare (Hz). Below 4 kHz no speech band survives (telephone audio is
# 8 kHz); above 384 kHz no audio interface records. A header outside is corrupt or a trick (a
# 1 Hz header made 8 samples into 8 s of "audio"), and is refused wherever audio is probed.
MIN_FILE_RATE = 4_000
MAX_FILE_RATE = 384_000

# Longest clip a training corpus may hold (seconds). The pipeline decodes and caches whole clips,
# so one long recording (a 2-hour file is 460 MB as float32) would swamp memory; corpora of
# utterances last seconds. Long recordings go to ``audio_test.py --file`` / ``predict_long``,
# which read them block by block.
MAX_CLIP_SECONDS = 600.0


def samples_for(seconds: float, *, sample_rate: int = SAMPLE_RATE) -> int:
    """Number of samples in ``seconds`` of audio at ``sample_rate`` Hz (rounded to nearest)."""
    return int(round(float(seconds) * sample_rate))
