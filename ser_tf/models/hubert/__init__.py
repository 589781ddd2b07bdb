"""HuBERT / wav2vec 2.0 family: a Keras port of the self-supervised speech encoders.

Registers the architectures ``hubert`` (HuBERT base), ``hubert_large``, ``wav2vec2`` (wav2vec 2.0
base) and ``hubert_tiny`` (tests). Model graph (layer names in brackets): waveform ``(batch,
samples)`` [waveform] -> all-valid padding mask [all_valid_mask] -> backbone [encoder] ->
the shared classifier head (``ser_tf.models.head``) with the backbone's padding mask:
[weighted_layer_sum] -> [projector] -> [pooling] -> [dense, dense_dropout] -> [classifier].

The model takes the raw waveform: its recipes say ``features.kind: raw``, and a config asking for
another front-end is refused. Its ``model.*`` keys (``HPARAMS``; any other key is an error):

    preset: backbone preset (default per arch; see ``presets.py``).
    pretrained: a local HF checkpoint folder or a converted ``X.weights.h5`` (null: random init).
    weighted_layer_sum: bool (SUPERB-style learned mix of all hidden states).
    classifier_proj_size: Dense width before pooling (0: none).
    pooling: masked_mean | attention | attentive_stats | stats | avg (see ``head.POOLINGS``).
    attention_units, dense_units (0: no hidden layer), dropout (before the output), l2: the head.
    freeze_feature_encoder_epochs: N (default 3).   freeze_layers: K | null (train top K only).
    freeze: none (default: fine-tune end to end) | all (frozen encoder) | top_k (train the top
        finetune_layers layers): with all / top_k the trainer runs the cached transfer recipes of
        ``ser_tf.training.transfer``, as for Whisper.   finetune_layers: K (default 2).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import keras

from ser_tf.errors import ConfigError, ModelError
from ser_tf.layers.masks import AllValidMask
from ser_tf.models.head import encoder_states_for_head, features_kind, head_from_hparams, model_hparams
from ser_tf.models.hubert.backbone import HubertBackbone, architecture_kwargs
from ser_tf.models.hubert.finetune import freeze_layers, make_callbacks
from ser_tf.models.hubert.presets import get_preset, list_presets
from ser_tf.models.registry import register_arch
from ser_tf.models.saving import architecture_differences, load_weights_exactly
from ser_tf.models.transfer import ENCODER_LAYER, freeze_encoder, named_encoder

__all__ = ["HubertBackbone", "build_classifier", "load_backbone", "get_preset", "list_presets", "ARCH_PRESETS"]

log = logging.getLogger(__name__)

# Default backbone preset of each registered arch.
ARCH_PRESETS = {
    "hubert": "hubert_base",
    "hubert_large": "hubert_large",
    "wav2vec2": "wav2vec2_base",
    "hubert_tiny": "hubert_tiny",
}

# The head's ``model.*`` keys (see ``ser_tf.models.head.classifier_head``) and their defaults:
# HF's ...ForSequenceClassification head (256-d projection, mean over the valid frames, no hidden
# layer), with dropout before the output layer.
HEAD_HPARAMS = {
    "weighted_layer_sum": False,
    "concat_layers": False,
    "normalize_pooled": False,
    "classifier_proj_size": 256,
    "pooling": "masked_mean",
    "attention_units": 64,
    "dense_units": 0,
    "dropout": 0.1,
    "l2": 0.0,
}

# Every ``model.*`` key of the family and its default (``preset: null`` = the arch's own preset).
HPARAMS = {
    "preset": None,
    "pretrained": None,
    **HEAD_HPARAMS,
    "freeze_feature_encoder_epochs": 3,
    "freeze_layers": None,
    "freeze": "none",
    "finetune_layers": 2,
}


def _check_architecture(found: Mapping, preset: str, source) -> None:
    details = architecture_differences(architecture_kwargs(get_preset(preset)), architecture_kwargs(dict(found)))
    if details:
        raise ConfigError(
            f"model.pretrained={str(source)!r} does not have the architecture of preset {preset!r}: {details}; "
            f"pick the matching arch/model.preset (presets: {sorted(list_presets())})"
        )


def load_backbone(*, preset: str, pretrained=None, name: str = ENCODER_LAYER) -> HubertBackbone:
    """A backbone of ``preset`` named ``name``, with weights from ``pretrained`` when given.

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
        return HubertBackbone(**kwargs, name=name)
    path = Path(pretrained).expanduser()
    if path.is_dir():
        hf_kwargs = convert.backbone_kwargs_from_hf_config(
            convert.read_hf_config(path), preprocessor=convert.read_preprocessor_config(path)
        )
        _check_architecture(hf_kwargs, preset, path)
        return convert.load_hf_checkpoint(path, name=name)
    if not path.is_file():
        raise ModelError(f"model.pretrained {str(path)!r} does not exist (expected an HF folder or a .weights.h5 file)")
    if convert.sidecar_config_path(path).is_file():
        backbone = convert.load_converted(path, name=name)
        _check_architecture(backbone.get_config(), preset, path)
        return backbone
    backbone = HubertBackbone(**kwargs, name=name)
    load_weights_exactly(backbone, path, into=f"preset {preset!r}")
    return backbone


def build_classifier(backbone: HubertBackbone, *, num_classes: int, hparams=None,
                     name: str = "hubert_classifier") -> keras.Model:
    """A functional classifier: ``backbone`` under the shared head (``head_from_hparams``).

    The backbone becomes the layer named ``encoder`` (a copy so named if it is not), as the views of
    ``ser_tf.models.transfer`` need. It runs with every sample marked real (the HF convention for
    the base checkpoints, whose feature extractors return no attention mask); the head's masked
    poolings get the backbone's frame-level padding mask.

    Args:
        backbone: a ``HubertBackbone``.
        num_classes: output classes (>= 2).
        hparams: keys of ``HEAD_HPARAMS`` to override (e.g. ``{"pooling": "attention"}``); the
            rest take its defaults. Unknown keys are an error.
        name: the model's name.

    Returns:
        ``keras.Model`` mapping ``(batch, samples)`` float32 to ``(batch, num_classes)``
        probabilities (float32 even under a mixed-precision policy).

    Raises:
        ConfigError: an unknown key or a bad head option (the message names it and its value).
    """
    hp = model_hparams({"model": dict(hparams or {})}, HEAD_HPARAMS, arch=name)
    backbone = named_encoder(backbone)
    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    padding_mask = AllValidMask(name="all_valid_mask")(waveform)
    outputs = backbone({"waveform": waveform, "padding_mask": padding_mask})
    states = encoder_states_for_head(outputs, hp)
    probabilities = head_from_hparams(states, hp, num_classes=num_classes, mask=outputs["padding_mask"])
    return keras.Model(waveform, probabilities, name=name)


def _builder(arch: str):
    def build(*, num_classes: int, config: Mapping):
        hp = model_hparams(config, HPARAMS, arch=arch)
        features_kind(config, arch=arch, allowed=("raw",))
        backbone = load_backbone(preset=hp["preset"] or ARCH_PRESETS[arch], pretrained=hp["pretrained"])
        head = {key: hp[key] for key in HEAD_HPARAMS}
        model = build_classifier(backbone, num_classes=num_classes, hparams=head, name=f"{arch}_classifier")
        if hp["freeze"] != "none" and hp["freeze_layers"] is not None:
            raise ConfigError(f"model.freeze={hp['freeze']!r} and model.freeze_layers={hp['freeze_layers']!r} "
                              "both choose what trains; set one of them (freeze: top_k with finetune_layers)")
        if hp["freeze_layers"] is not None:
            freeze_layers(model, hp["freeze_layers"])
        if hp["freeze"] != "none":
            freeze_encoder(model, freeze=hp["freeze"], finetune_layers=hp["finetune_layers"])
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
