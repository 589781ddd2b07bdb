"""``Predictor``: load a trained model once, then classify waveforms, files, long recordings and
live streams.

Clips no longer than the model's window are classified in one pass (zero-padded, centred, as in
evaluation). Longer audio is cut into sliding windows read block by block (memory stays bounded
whatever the length) and classified in batches; each window passes an energy gate (``EnergyVAD``)
and the overall label is the mean of the window probabilities over the *voiced* windows.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ser_tf.constants import MIN_DURATION, SAMPLE_RATE, SILENCE_PEAK, samples_for
from ser_tf.data.cropping import fix_length_numpy
from ser_tf.errors import AudioError, ParameterError
from ser_tf.inference import loading
from ser_tf.inference.backends import KerasBackend, TFLiteBackend, is_tflite_path, quiet_tone
from ser_tf.inference.choice import ModelChoice, choose_model
from ser_tf.inference.results import SILENCE, LongPrediction, Prediction, StreamUpdate, WindowPrediction
from ser_tf.inference.smoothing import ProbabilitySmoother
from ser_tf.inference.vad import EnergyVAD, is_digital_silence
from ser_tf.inference.windows import Window, WindowFramer
from ser_tf.utils.progress import bar, bars_enabled

# Seconds of audio read from disk at a time by predict_long: large enough for efficient reads,
# small enough that memory stays a few MB whatever the recording's length.
BLOCK_SECONDS = 30.0


class Predictor:
    """A trained model loaded once, with its class names and input window.

    Args:
        model_path: ``"default"`` (the bundled model), a ``.keras`` / ``.h5`` file, a run folder,
            or a ``.tflite`` export of ``python -m ser_tf.export`` (run by the LiteRT interpreter);
            ``None`` uses the newest real run, else the default model (see
            ``ser_tf.inference.choice.choose_model``, whose answer is kept as ``choice``); or a
            ``ModelChoice`` already made.
        labels: class names in output order, overriding ``labels.json``.
        top_k: number of classes listed in ``Prediction.top_k`` (>= 1; capped at the class count).
        batch_size: windows per model call for long recordings (>= 1).
        denoise: apply spectral-gating noise reduction (``ser_tf.inference.denoise``) to each
            window's audio before the model; the voice-activity gate still hears the raw audio.

    Raises:
        ModelError: no model, a corrupt or foreign model file, or labels that do not fit it.
    """

    def __init__(self, model_path=None, *, labels: Optional[Sequence[str]] = None, top_k: int = 3,
                 batch_size: int = 16, denoise: bool = False):
        if int(top_k) < 1 or int(batch_size) < 1:
            raise ParameterError(f"top_k and batch_size must be >= 1, got {top_k!r} and {batch_size!r}")
        self.choice: ModelChoice = (model_path if isinstance(model_path, ModelChoice)
                                    else choose_model(model_path))
        path = self.choice.path
        self.info = loading.describe_model(path)
        if is_tflite_path(path):  # an export: the labels it carries unless --labels says otherwise
            self.backend = TFLiteBackend(path)
            self.model = None
            if labels is None and self.backend.embedded_classes is not None:
                labels = self.backend.embedded_classes
        else:
            self.backend = KerasBackend(loading.load_keras_model(path))
            self.model = self.backend.model
        self.classes: List[str] = loading.resolve_classes(self.info, self.backend.num_outputs, labels=labels)
        self.sample_rate: int = self.info.sample_rate
        self.window_samples: int = loading.window_samples(self.backend.fixed_length, self.info)
        self.fixed_input = self.backend.fixed_length is not None
        self.top_k = min(int(top_k), len(self.classes))
        self.batch_size = int(batch_size)
        self.denoise = bool(denoise)

    @property
    def model_path(self) -> Path:
        return self.info.path

    @property
    def window(self) -> float:
        """Seconds of audio per model input."""
        return self.window_samples / self.sample_rate

    # ---------------------------------------------------------------- model calls

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities ``(batch, num_classes)`` float64 for windows ``(batch, samples)``."""
        return self.backend.predict_batch(batch)

    def _prepare(self, samples: np.ndarray) -> np.ndarray:
        """A window's audio as the model gets it: denoised when ``denoise`` is on, else as is."""
        if not self.denoise:
            return samples
        from ser_tf.inference.denoise import denoise

        return denoise(samples, sample_rate=self.sample_rate)

    def warmup(self) -> None:
        """Trace the inference graph now, so the first real window is not slowed by it."""
        self.predict_batch(quiet_tone(self.window_samples)[None, :])

    def _prediction(self, probs: np.ndarray, *, duration=None, path=None) -> Prediction:
        order = np.argsort(-probs, kind="stable")
        top = [(self.classes[i], float(probs[i])) for i in order[: self.top_k]]
        return Prediction(
            label=top[0][0],
            confidence=top[0][1],
            probabilities={c: float(p) for c, p in zip(self.classes, probs)},
            top_k=top,
            duration=duration,
            path=path,
        )

    def window_length(self, window: Optional[float] = None) -> int:
        """Samples per window for ``window`` seconds (``None``: the model's window).

        Raises:
            ParameterError: a fixed-input model and another length, or less than 0.5 s.
        """
        if window is None:
            return self.window_samples
        n = samples_for(window, sample_rate=self.sample_rate)
        if self.fixed_input and n != self.window_samples:
            raise ParameterError(
                f"window {window} s does not fit this model, whose input is fixed at "
                f"{self.window:g} s; omit --window or pass {self.window:g}"
            )
        if n < samples_for(MIN_DURATION, sample_rate=self.sample_rate):
            raise ParameterError(f"window must be >= {MIN_DURATION} s, got {window!r}")
        return n

    def hop_length(self, hop: float, window_len: int) -> int:
        """Samples per hop of ``hop`` seconds; must be in (0, window_len] so no audio is skipped."""
        h = samples_for(hop, sample_rate=self.sample_rate)
        if not h > 0 or h > window_len:
            raise ParameterError(
                f"hop must be > 0 and <= the window ({window_len / self.sample_rate:g} s) so no "
                f"audio is skipped, got {hop!r}"
            )
        return h

    # ---------------------------------------------------------------- clips

    def _to_model_rate(self, x: np.ndarray, sample_rate: int) -> np.ndarray:
        """Mono float32 at the model's rate; scipy's resampler is only imported when rates differ."""
        from ser_tf.data.audio_io import resample, to_mono

        x = to_mono(np.asarray(x, dtype=np.float32))
        if x.ndim != 1:
            raise ParameterError(f"expected a waveform (samples,) or (samples, channels), got shape {x.shape}")
        if int(sample_rate) == self.sample_rate:
            return x
        return resample(x, orig_sr=sample_rate, target_sr=self.sample_rate)

    def _check_clip(self, x: np.ndarray, *, path=None) -> None:
        duration = len(x) / self.sample_rate
        if duration < MIN_DURATION:
            raise AudioError(
                f"too short to classify: {duration:.2f} s; need at least {MIN_DURATION} s", path=path
            )
        if is_digital_silence(x):
            raise AudioError(
                f"digital silence (peak {float(np.max(np.abs(x))):.1e} < {SILENCE_PEAK:g}); "
                f"nothing to classify",
                path=path,
            )

    def predict_waveform(self, x: np.ndarray, *, sample_rate: int = SAMPLE_RATE, path=None,
                         window: Optional[float] = None, hop: float = 1.0) -> Prediction:
        """Classify a waveform.

        Args:
            x: float ``(samples,)`` or ``(samples, channels)`` (averaged to mono), in [-1, 1].
            sample_rate: rate of ``x`` in Hz; resampled to the model's rate if it differs.
            path: file name used in error messages and in the result.
            window, hop: seconds, as in ``predict_long``, for audio longer than one window.

        Returns:
            The prediction; for audio longer than the window, the overall label of
            ``predict_long_waveform`` (mean over voiced windows).

        Raises:
            AudioError: shorter than 0.5 s, or digital silence.
        """
        x = self._to_model_rate(x, sample_rate)
        path = None if path is None else str(path)
        win = self.window_length(window)
        if len(x) > win:
            return self.predict_long_waveform(x, sample_rate=self.sample_rate, window=window, hop=hop, path=path).overall
        self._check_clip(x, path=path)
        probs = self.predict_batch(fix_length_numpy(self._prepare(x), win)[None, :])[0]
        return self._prediction(probs, duration=len(x) / self.sample_rate, path=path)

    def predict_file(self, path) -> Prediction:
        """Classify an audio file (any format and rate soundfile reads).

        Long files go through ``predict_long`` and return its overall prediction.

        Raises:
            AudioError: missing, unreadable, empty, too short or silent file.
        """
        return self.predict_path(path)[0]

    def predict_path(self, path, *, window: Optional[float] = None, hop: float = 1.0,
                     progress: bool = False) -> Tuple[Prediction, Optional[LongPrediction]]:
        """``(prediction, long_result)``; ``long_result`` is ``None`` for a clip within one window.

        A file longer than ``window`` (default: the model's) goes through ``predict_long``, and the
        prediction is its overall label; ``progress`` is passed on to it.
        """
        from ser_tf.data.audio_io import iter_blocks, probe_audio

        win = self.window_length(window)
        info = probe_audio(path)
        out_samples = -(-info.frames * self.sample_rate // info.sample_rate)
        if out_samples > win:
            result = self.predict_long(path, window=window, hop=hop, progress=progress)
            return result.overall, result
        # One block of iter_blocks is load_audio's result, but it only imports scipy's resampler
        # when the file's rate differs (load_audio always does: ~1 s of cold start).
        x = np.concatenate([b for _, b in iter_blocks(path, block_seconds=BLOCK_SECONDS, sample_rate=self.sample_rate)])
        return self.predict_waveform(x, sample_rate=self.sample_rate, path=path, window=window), None

    # ---------------------------------------------------------------- long recordings

    def predict_long(self, path, *, window: Optional[float] = None, hop: float = 1.0,
                     progress: bool = False) -> LongPrediction:
        """Sliding-window timeline of a recording, read ``BLOCK_SECONDS`` at a time.

        Args:
            path: audio file of any length.
            window: seconds per window (default: the model's window; fixed-input models accept
                only that).
            hop: seconds between window starts, in (0, window].
            progress: show a bar of windows classified on stderr (only on a terminal, and not
                after ``ser_tf.utils.progress.set_enabled(False)``).

        Raises:
            AudioError: unreadable file, shorter than 0.5 s, or digital silence throughout.
        """
        from ser_tf.data.audio_io import iter_blocks, probe_audio

        total = None
        if progress and bars_enabled():
            info = probe_audio(path)
            total = -(-info.frames * self.sample_rate // info.sample_rate)
        blocks = (b for _, b in iter_blocks(path, block_seconds=BLOCK_SECONDS, sample_rate=self.sample_rate))
        return self._predict_chunks(blocks, window=window, hop=hop, path=str(path), progress=progress,
                                    total_samples=total)

    def predict_long_waveform(self, x: np.ndarray, *, sample_rate: int = SAMPLE_RATE, window=None,
                              hop: float = 1.0, path=None) -> LongPrediction:
        """``predict_long`` for a waveform already in memory (e.g. a microphone recording)."""
        x = self._to_model_rate(x, sample_rate)
        step = samples_for(BLOCK_SECONDS, sample_rate=self.sample_rate)
        chunks = (x[i:i + step] for i in range(0, len(x), step))
        return self._predict_chunks(chunks, window=window, hop=hop, path=path)

    def _predict_chunks(self, chunks: Iterable[np.ndarray], *, window, hop, path, progress: bool = False,
                        total_samples: Optional[int] = None) -> LongPrediction:
        win = self.window_length(window)
        hop_len = self.hop_length(hop, win)
        framer = WindowFramer(window=win, hop=hop_len,
                              min_length=samples_for(MIN_DURATION, sample_rate=self.sample_rate))
        vad = EnergyVAD(sample_rate=self.sample_rate)
        timeline: List[WindowPrediction] = []
        pending: List[Window] = []
        peak = 0.0
        # About one window per hop after the first (the framer may add a shorter last one).
        expected = None if total_samples is None else 1 + max(0, -(-(total_samples - win) // hop_len))
        windows_bar = bar(desc=f"windows of {Path(str(path)).name}" if path else "windows", total=expected,
                          unit="window", enabled=None if progress else False)

        def classify(windows: List[Window]) -> None:
            timeline.extend(self._classify_windows(windows, win, vad, hop))
            windows_bar.update(len(windows))

        try:
            for chunk in chunks:
                if len(chunk):
                    peak = max(peak, float(np.max(np.abs(chunk))))
                pending.extend(framer.push(chunk))
                while len(pending) >= self.batch_size:  # classify in batches: memory stays bounded
                    classify(pending[: self.batch_size])
                    del pending[: self.batch_size]
            pending.extend(framer.flush())
            total = framer.total / self.sample_rate
            if total < MIN_DURATION:
                raise AudioError(f"too short to classify: {total:.2f} s; need at least {MIN_DURATION} s", path=path)
            if peak < SILENCE_PEAK:
                raise AudioError(f"digital silence throughout (peak {peak:.1e} < {SILENCE_PEAK:g}); "
                                 f"nothing to classify", path=path)
            for i in range(0, len(pending), self.batch_size):
                classify(pending[i:i + self.batch_size])
        finally:
            windows_bar.close()
        return self._summarise(timeline, window=win / self.sample_rate, hop=hop, duration=total, path=path)

    def _classify_windows(self, windows: List[Window], win: int, vad: EnergyVAD, hop: float) -> List[WindowPrediction]:
        """Gate and classify consecutive windows (one model call; digital silence skips the model)."""
        silent = [is_digital_silence(w.samples) for w in windows]
        loud = [fix_length_numpy(self._prepare(w.samples), win) for w, s in zip(windows, silent) if not s]
        probs = iter(self.predict_batch(np.stack(loud)) if loud else ())
        out = []
        for w, is_silent in zip(windows, silent):
            gate = vad(w.samples, advance_s=hop)  # always called, in order: it tracks the noise floor
            p = None if is_silent else next(probs)
            voiced = gate.voiced and p is not None
            out.append(WindowPrediction(
                start=w.start / self.sample_rate, end=w.end / self.sample_rate,
                label=self.classes[int(np.argmax(p))] if voiced else SILENCE,
                confidence=float(np.max(p)) if voiced else None,
                probabilities=None if p is None else dict(zip(self.classes, map(float, p))),
                voiced=voiced, level_db=gate.level_db,
            ))
        return out

    def _summarise(self, timeline, *, window, hop, duration, path) -> LongPrediction:
        voiced = [w.probabilities for w in timeline if w.voiced]
        if voiced:
            basis = f"mean of window probabilities over the {len(voiced)} voiced windows of {len(timeline)}"
            rows = voiced
        else:
            rows = [w.probabilities for w in timeline if w.probabilities is not None]
            basis = (f"no window passed the voice-activity gate; mean over all {len(rows)} non-silent "
                     f"windows (the recording may hold no speech)")
        mean = np.mean([[r[c] for c in self.classes] for r in rows], axis=0)
        overall = self._prediction(mean, duration=duration, path=path)
        return LongPrediction(timeline, overall, basis, window, hop, duration)

    # ---------------------------------------------------------------- live streams

    def stream(self, source: Iterable[np.ndarray], *, sample_rate: Optional[int] = None,
               window: Optional[float] = None, hop: float = 1.0, alpha: float = 0.5,
               reset_after_s: Optional[float] = 2.0, drop_late: bool = False) -> Iterator[StreamUpdate]:
        """Classify a live stream, yielding one smoothed update per hop.

        Args:
            source: iterable of float32 ``(samples,)`` chunks of any size (a microphone, a
                generator of synthetic audio...). The stream ends when it does.
            sample_rate: rate of the chunks in Hz (default: the model's); other rates are resampled
                chunk by chunk.
            window, hop: seconds, as in ``predict_long``. Updates start after one hop, on a growing
                window, once 0.5 s of audio has arrived.
            alpha: EMA weight of the newest window (see ``ProbabilitySmoother``).
            reset_after_s: seconds of silence after which the average restarts.
            drop_late: when one chunk completes several windows (the consumer fell behind), classify
                only the newest and count the others in ``StreamUpdate.dropped``.
        """
        rate = self.sample_rate if sample_rate is None else int(sample_rate)
        win = self.window_length(window)
        hop_len = self.hop_length(hop, win)
        hop_s = hop_len / self.sample_rate
        framer = WindowFramer(window=win, hop=hop_len, head=True,
                              min_length=samples_for(MIN_DURATION, sample_rate=self.sample_rate))
        vad = EnergyVAD(sample_rate=self.sample_rate)
        smoother = ProbabilitySmoother(alpha=alpha, reset_after_s=reset_after_s)
        total_compute, dropped = 0.0, 0
        for chunk in source:
            t0 = time.perf_counter()
            chunk = self._to_model_rate(np.asarray(chunk, dtype=np.float32).reshape(-1), rate)
            windows = framer.push(chunk)
            if drop_late and len(windows) > 1:
                dropped += len(windows) - 1
                windows = windows[-1:]
            total_compute += time.perf_counter() - t0
            for w in windows:
                t0 = time.perf_counter()
                gate = vad(w.samples, advance_s=hop_s)
                if gate.voiced:
                    raw = self._prediction(self.predict_batch(fix_length_numpy(self._prepare(w.samples), win)[None, :])[0],
                                           duration=len(w.samples) / self.sample_rate)
                    smooth = self._prediction(smoother.update([raw.probabilities[c] for c in self.classes]))
                    label, conf, probs = smooth.label, smooth.confidence, smooth.probabilities
                else:
                    smoother.silence(hop_s)
                    raw, label, conf, probs = None, SILENCE, None, None
                spent = time.perf_counter() - t0
                total_compute += spent
                yield StreamUpdate(
                    start=w.start / self.sample_rate, end=w.end / self.sample_rate, label=label,
                    confidence=conf, probabilities=probs, raw=raw, level_db=gate.level_db,
                    compute_s=spent, total_compute_s=total_compute,
                    audio_s=framer.total / self.sample_rate, dropped=dropped,
                )
