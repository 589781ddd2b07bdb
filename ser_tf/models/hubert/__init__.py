"""HuBERT / wav2vec 2.0 family: a Keras port of the self-supervised speech encoders.

Registers the architectures ``hubert`` (HuBERT base), ``hubert_large``, ``wav2vec2`` (wav2vec 2.0
base) and ``hubert_tiny`` (tests). Their ``model.*`` config keys:

    preset: backbone preset (default per arch; see ``presets.py``).
    pretrained: a local HF checkpoint folder or a converted ``X.weights.h5`` (null: random init).
    pooling: mean | attention.       weighted_layer_sum: bool (SUPERB-style layer mix).
    classifier_proj_size: Dense width before pooling (0: none).   dropout: head dropout.
    freeze_feature_encoder_epochs: N (default 3).   freeze_layers: K | null (train top K only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from ser_tf.errors import ConfigError, ModelError
from ser_tf.models.hubert.backbone import HubertBackbone, architecture_kwargs
from ser_tf.models.hubert.finetune import freeze_layers, make_callbacks
from ser_tf.models.hubert.head import build_classifier
from ser_tf.models.hubert.presets import get_preset, list_presets
from ser_tf.models.registry import register_arch

__all__ = ["HubertBackbone", "build_classifier", "load_backbone", "get_preset", "list_presets", "ARCH_PRESETS"]

log = logging.getLogger(__name__)

# Default backbone preset of each registered arch.
ARCH_PRESETS = {
    "hubert": "hubert_base",
    "hubert_large": "hubert_large",
    "wav2vec2": "wav2vec2_base",
    "hubert_tiny": "hubert_tiny",
}


def _check_architecture(found: Mapping, preset: str, source) -> None:
    expected = architecture_kwargs(get_preset(preset))
    got = architecture_kwargs(dict(found))
    differ = sorted(k for k in expected if expected[k] != got.get(k))
    if differ:
        details = ", ".join(f"{k}: {got.get(k)!r} (preset {expected[k]!r})" for k in differ)
        raise ConfigError(
            f"model.pretrained={str(source)!r} does not have the architecture of preset {preset!r}: {details}; "
            f"pick the matching arch/model.preset (presets: {sorted(list_presets())})"
        )


def load_backbone(*, preset: str, pretrained=None) -> HubertBackbone:
    """A backbone of ``preset``, with weights from ``pretrained`` when given.

    ``pretrained`` is a local HF checkpoint folder (converted on the fly) or a ``X.weights.h5``
    written by ``convert.py`` / pretraining (with its ``X.config.json``, or matching ``preset``).

    Raises:
        ParameterError: unknown preset.  ConfigError: weights of another architecture.
        ModelError: a missing or unreadable checkpoint.
    """
    from ser_tf.models.hubert import convert

    kwargs = get_preset(preset)
    if pretrained is None:
        log.warning("HuBERT backbone %r starts from random weights (no model.pretrained given)", preset)
        return HubertBackbone(**kwargs)
    path = Path(pretrained).expanduser()
    if path.is_dir():
        hf_kwargs = convert.backbone_kwargs_from_hf_config(
            convert.read_hf_config(path), preprocessor=convert.read_preprocessor_config(path)
        )
        _check_architecture(hf_kwargs, preset, path)
        return convert.load_hf_checkpoint(path)
    if not path.is_file():
        raise ModelError(f"model.pretrained {str(path)!r} does not exist (expected an HF folder or a .weights.h5 file)")
    if convert.sidecar_config_path(path).is_file():
        backbone = convert.load_converted(path)
        _check_architecture(backbone.get_config(), preset, path)
        return backbone
    backbone = HubertBackbone(**kwargs)
    # Keras ignores extra variables in a weights file; count them so a bigger model is no match.
    stored = _count_h5_variables(path)
    if stored != len(backbone.weights):
        raise ModelError(f"cannot load {str(path)!r} into preset {preset!r}: the file holds {stored} "
                         f"variables, the preset has {len(backbone.weights)}")
    try:
        backbone.load_weights(path)
    except Exception as err:  # Keras raises ValueError/KeyError variants on mismatched files
        raise ModelError(f"cannot load {str(path)!r} into preset {preset!r}: {err}") from err
    return backbone


def _count_h5_variables(path) -> int:
    import h5py

    count = 0

    def visit(name, obj):
        nonlocal count
        count += isinstance(obj, h5py.Dataset)

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except OSError as err:
        raise ModelError(f"{str(path)!r} is not a Keras weights file: {err}") from None
    return count


def _builder(arch: str):
    def build(*, num_classes: int, config: Mapping):
        model_cfg = dict(config.get("model") or {})
        backbone = load_backbone(preset=model_cfg.get("preset") or ARCH_PRESETS[arch],
                                 pretrained=model_cfg.get("pretrained"))
        model = build_classifier(
            backbone,
            num_classes=num_classes,
            pooling=model_cfg.get("pooling", "mean"),
            weighted_layer_sum=bool(model_cfg.get("weighted_layer_sum", False)),
            projection_dim=int(model_cfg.get("classifier_proj_size", 256)),
            dropout=float(model_cfg.get("dropout", 0.1)),
            name=f"{arch}_classifier",
        )
        if model_cfg.get("freeze_layers") is not None:
            freeze_layers(model, model_cfg["freeze_layers"])
        return model

    return build


_DESCRIPTIONS = {
    "hubert": "HuBERT base encoder (facebook/hubert-base-ls960) fine-tuned with a pooling head",
    "hubert_large": "HuBERT large encoder (facebook/hubert-large-ll60k) fine-tuned with a pooling head",
    "wav2vec2": "wav2vec 2.0 base encoder (facebook/wav2vec2-base) fine-tuned with a pooling head",
    "hubert_tiny": "a tiny random HuBERT, for tests and smoke runs",
}

for _arch in ARCH_PRESETS:
    register_arch(_arch, builder=_builder(_arch), description=_DESCRIPTIONS[_arch], make_callbacks=make_callbacks)
