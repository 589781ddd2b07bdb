"""Exponential moving average of class probabilities, for a live label that does not flicker."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ser_tf.errors import ParameterError


class ProbabilitySmoother:
    """EMA over successive probability vectors: ``s <- alpha * p + (1 - alpha) * s``.

    The first vector after construction or ``reset()`` is taken as is. Silence does not update the
    average; after ``reset_after_s`` seconds of uninterrupted silence the average is forgotten,
    because the next speech is most likely a new utterance whose emotion should not be pulled
    towards the previous one.

    Args:
        alpha: weight of the newest window, in (0, 1]; 1 disables smoothing. With a 1 s hop,
            0.5 gives the last three windows about 90 % of the weight.
        reset_after_s: seconds of silence after which the average restarts (> 0, or ``None`` for
            never).
    """

    def __init__(self, *, alpha: float = 0.5, reset_after_s: Optional[float] = 2.0):
        if not 0.0 < alpha <= 1.0:
            raise ParameterError(f"alpha must be in (0, 1], got {alpha!r}")
        if reset_after_s is not None and not reset_after_s > 0:
            raise ParameterError(f"reset_after_s must be > 0 or None, got {reset_after_s!r}")
        self.alpha = float(alpha)
        self.reset_after_s = reset_after_s
        self._state: Optional[np.ndarray] = None
        self._silent_s = 0.0

    @property
    def state(self) -> Optional[np.ndarray]:
        """The current average ``(num_classes,)``, or ``None`` before the first voiced window."""
        return None if self._state is None else self._state.copy()

    def reset(self) -> None:
        self._state = None
        self._silent_s = 0.0

    def update(self, probabilities: np.ndarray) -> np.ndarray:
        """Fold in one voiced window's probabilities; returns the new average (sums to 1)."""
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim != 1 or p.size == 0:
            raise ParameterError(f"expected a 1-D probability vector, got shape {p.shape}")
        if self._state is not None and self._state.shape != p.shape:
            raise ParameterError(f"got {p.size} probabilities, the average holds {self._state.size}")
        self._silent_s = 0.0
        self._state = p.copy() if self._state is None else self.alpha * p + (1 - self.alpha) * self._state
        return self._state.copy()

    def silence(self, seconds: float) -> None:
        """Record ``seconds`` of silence; resets the average once silence lasts ``reset_after_s``."""
        self._silent_s += float(seconds)
        if self.reset_after_s is not None and self._silent_s >= self.reset_after_s:
            self._state = None
