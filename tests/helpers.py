"""Shared test helpers, after keras-hub's ``test_case.py``.

``run_layer_test`` builds a layer from tiny kwargs, checks the output shape, the ``get_config``
round trip and (optionally) the trainable-weight count. ``run_model_saving_test`` saves a model as
``.keras`` and as legacy ``.h5``, reloads each with the default ``safe_mode`` and checks that the
reloaded model gives the same outputs. Both are plain functions so any test module can import them
(``from tests.helpers import run_layer_test``) when pytest runs from the repository root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def _to_numpy(x) -> Any:
    if isinstance(x, (list, tuple)):
        return [_to_numpy(v) for v in x]
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    return keras.ops.convert_to_numpy(x)


def assert_allclose(actual, expected, *, atol: float = 1e-6, rtol: float = 1e-6, msg: str = ""):
    """``np.testing.assert_allclose`` over tensors, lists and dicts of tensors."""
    actual, expected = _to_numpy(actual), _to_numpy(expected)
    if isinstance(expected, dict):
        assert set(actual) == set(expected), msg
        for key in expected:
            assert_allclose(actual[key], expected[key], atol=atol, rtol=rtol, msg=f"{msg}[{key}]")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), msg
        for a, e in zip(actual, expected):
            assert_allclose(a, e, atol=atol, rtol=rtol, msg=msg)
    else:
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=msg)


def run_layer_test(
    layer_cls,
    *,
    init_kwargs: Mapping[str, Any],
    input_data,
    expected_output_shape: Optional[Sequence[Optional[int]]] = None,
    expected_num_trainable_weights: Optional[int] = None,
    call_kwargs: Optional[Mapping[str, Any]] = None,
    training: Optional[bool] = None,
    run_saving: bool = True,
    tmp_path: Optional[Path] = None,
):
    """Build ``layer_cls(**init_kwargs)``, call it on ``input_data`` and check it.

    Checks, in order: the eager output shape (``None`` entries in ``expected_output_shape`` match
    any size); that ``compute_output_shape`` agrees on the known dims; the
    ``get_config`` / ``from_config`` round trip (JSON-serialisable, rebuilds the same config); the
    number of trainable weights; and, when ``run_saving`` and ``tmp_path`` are given, the
    ``.keras`` / ``.h5`` save-reload round trip of a one-layer functional model.

    Returns:
        The layer's output on ``input_data`` (numpy).
    """
    call_kwargs = dict(call_kwargs or {})
    layer = layer_cls(**init_kwargs)
    if training is not None:
        call_kwargs["training"] = training
    output = _to_numpy(layer(input_data, **call_kwargs))

    if expected_output_shape is not None:
        assert len(output.shape) == len(expected_output_shape), (
            output.shape,
            expected_output_shape,
        )
        for got, want in zip(output.shape, expected_output_shape):
            assert want is None or got == want, (output.shape, expected_output_shape)

    # The symbolic shape (what functional models see) must agree with the eager one.
    input_shape = (None,) + tuple(np.shape(_to_numpy(input_data)))[1:]
    static = tuple(layer.compute_output_shape(input_shape))
    assert len(static) == len(output.shape), (static, output.shape)
    for got, want in zip(output.shape[1:], static[1:]):
        assert want is None or got == want, (static, output.shape)

    # Config round trip: the config must be JSON-able and rebuild an identical layer.
    config = layer.get_config()
    for key in init_kwargs:
        assert key in config, f"{layer_cls.__name__}.get_config() lacks {key!r}"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    json.dumps(keras.saving.serialize_keras_object(layer))  # raises if not serialisable

    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights

    if run_saving and tmp_path is not None:
        shape = tuple(np.shape(_to_numpy(input_data)))[1:]
        inputs = keras.Input(shape=shape, batch_size=None, name="inputs")
        model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs), name="layer_test")
        run_model_saving_test(model, _to_numpy(input_data), tmp_path)
    return output


def run_model_saving_test(model: keras.Model, inputs, tmp_path, *, atol: float = 1e-6):
    """Save ``model`` as ``.keras`` and ``.h5``, reload each (default safe_mode), compare outputs.

    The comparison runs in inference mode (``model(inputs, training=False)``), so dropout and
    SpecAugment are off and the outputs must agree to ``atol``.

    Returns:
        ``{"keras": reloaded_model, "h5": reloaded_model}`` for further checks.
    """
    tmp_path = Path(tmp_path)
    expected = _to_numpy(model(inputs, training=False))
    reloaded = {}
    for suffix in ("keras", "h5"):
        path = tmp_path / f"{model.name}.{suffix}"
        model.save(path)
        assert path.is_file() and path.stat().st_size > 0, path
        restored = keras.models.load_model(path)
        actual = restored(inputs, training=False)
        assert_allclose(actual, expected, atol=atol, rtol=1e-5, msg=f"{suffix} reload")
        assert [w.shape for w in restored.weights] == [w.shape for w in model.weights]
        reloaded[suffix] = restored
    return reloaded


def tiny_config(overrides: Optional[Mapping[str, Any]] = None) -> dict:
    """The default config (``ser_tf.settings``) as a dict, shrunk for fast model tests and
    deep-merged with ``overrides``.

    0.5 s clips (8,000 samples, 51 frames) and 16 mel bands; SpecAugment off unless overridden.
    """
    from ser_tf.config import deep_merge
    from ser_tf.settings import SerConfig

    config = deep_merge(
        SerConfig().to_dict(),
        {"audio": {"duration": 0.5}, "features": {"n_mels": 16}},
    )
    return deep_merge(config, overrides or {})


def waveform_batch(rng, *, batch: int = 2, seconds: float = 0.5, sample_rate: int = 16000):
    """``(batch, samples)`` float32 noise plus a tone, in [-1, 1], like a clip from the pipeline."""
    samples = int(round(seconds * sample_rate))
    t = np.arange(samples) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 220.0 * t)
    return (tone + 0.05 * rng.standard_normal((batch, samples))).astype(np.float32)
