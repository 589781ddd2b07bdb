"""Training on a frozen (or partly frozen) pretrained encoder, from cached encoder outputs.

Used by ``runner.train_split`` when the arch's ``model.freeze`` is ``all`` or ``top_k`` and
``train.encoder_cache.enabled`` is true (the default); otherwise the ordinary path trains the
classifier end to end on waveforms. Two recipes:

``frozen`` (``model.freeze: all``)
    The encoder view (``ser_tf.models.transfer.encoder_view``) encodes every clip of train,
    validation and test once (``encoder_cache``); the head view (``head_view``), which reuses the
    classifier's head layers, trains on the cached hidden states.

``partial`` (``model.freeze: top_k``, ``model.finetune_layers: K``)
    The lower view (``split_encoder``) is cached; the upper view (top K encoder layers + head)
    trains on it, the encoder layers at ``learning_rate * train.encoder_lr_scale`` (times
    ``train.layer_lr_decay`` per layer below the top one) and the head at ``learning_rate``. Adam
    normalises the gradient's scale, so each rate gets its own optimizer (``MultiRateModel``).

Model selection is the runner's: ``make_callbacks`` on the cached validation split (validation
UA, early stopping with best weights, history CSV, TensorBoard, per-epoch backup for
``--resume``). The views share their layers with the classifier, so once training ends the
classifier (waveform -> probabilities) is the trained model; the runner saves it as it saves
every arch.

Augmentation: waveform augmentation and random crops change what the encoder sees, so they need
``train.encoder_cache.views: N``: N augmented views of each training clip (the pipeline's crop
and augmentations, view v seeded ``seed + v``) are cached beside the clean centre crop, and each
epoch draws one of the N + 1 per clip. Each view costs one more encoder pass over the training
split per fold (augmented clips differ between folds, so they are cached but rarely reused).
With ``views: 0`` an enabled waveform augmentation or ``audio.train_crop: random`` is refused;
SpecAugment (inside the frozen encoder's input) is always refused with the cache on.
``train.encoder_cache.frame_dropout`` drops a share of the valid frames from the padding mask of
each training example: a cheap augmentation on the cached states.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import re
from typing import List, Optional, Sequence

import numpy as np

from ser_tf.errors import ConfigError
from ser_tf.settings import SerConfig
from ser_tf.settings.sections import WaveformAugment
from ser_tf.training.encoder_cache import CacheStats, EncodedSplit, EncoderCache, encode_dataset

__all__ = ["TransferPlan", "transfer_plan", "train_transfer", "multi_rate_model", "rate_groups",
           "state_dataset"]

logger = logging.getLogger(__name__)

FREEZE_MODES = ("all", "top_k", "none")


@dataclasses.dataclass(frozen=True)
class TransferPlan:
    """What the transfer trainer runs: ``recipe`` ``frozen`` or ``partial``, ``top_k`` encoder
    layers fine-tuned (0 when frozen), ``views`` augmented views per training clip."""

    recipe: str
    top_k: int
    views: int
    dtype: str
    encoder_lr_scale: float
    layer_lr_decay: float
    frame_dropout: float

    def describe(self) -> dict:
        out = {"recipe": self.recipe, "cache_views": self.views, "cache_dtype": self.dtype,
               "frame_dropout": self.frame_dropout}
        if self.recipe == "partial":
            out.update(top_k=self.top_k, encoder_lr_scale=self.encoder_lr_scale,
                       layer_lr_decay=self.layer_lr_decay)
        return out


def _model_hparam(config: SerConfig, key: str):
    """``model.<key>`` as the recipe gives it, else the arch family's default (its ``HPARAMS``)."""
    if key in config.model:
        return config.model[key]
    from ser_tf.models.registry import get_arch

    builder = get_arch(config.arch).builder
    defaults = getattr(importlib.import_module(builder.__module__), "HPARAMS", {})
    return defaults.get(key)


def transfer_plan(config: SerConfig) -> Optional[TransferPlan]:
    """The transfer recipe of ``config``, or None for the ordinary end-to-end path (an arch
    without ``model.freeze``, ``freeze: none``, or ``train.encoder_cache.enabled: false``).

    Raises:
        ConfigError: a bad ``model.freeze`` / ``finetune_layers`` or ``train.encoder_*`` value,
            or an augmentation the cache cannot honour (see the module docstring).
    """
    freeze = _model_hparam(config, "freeze")
    if freeze is None:
        return None
    if freeze not in FREEZE_MODES:
        raise ConfigError(f"model.freeze must be one of {list(FREEZE_MODES)}, got {freeze!r}")
    cache = config.train.encoder_cache
    if freeze == "none" or not cache.enabled:
        return None
    top_k = 0
    if freeze == "top_k":
        top_k = _model_hparam(config, "finetune_layers")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ConfigError(f"model.finetune_layers must be an integer >= 1 with model.freeze: top_k, "
                              f"got {top_k!r}")
    train = config.train
    for key, value in (("train.encoder_lr_scale", train.encoder_lr_scale),
                       ("train.layer_lr_decay", train.layer_lr_decay)):
        if not 0.0 < value <= 1.0:
            raise ConfigError(f"{key} must be in (0, 1], got {value!r}")
    if cache.views < 0:
        raise ConfigError(f"train.encoder_cache.views must be >= 0, got {cache.views!r}")
    if not 0.0 <= cache.frame_dropout < 1.0:
        raise ConfigError(f"train.encoder_cache.frame_dropout must be in [0, 1), got {cache.frame_dropout!r}")
    _check_augment(config)
    if top_k and train.mixed_precision == "mixed_float16":
        raise ConfigError("model.freeze: top_k trains with one optimizer per learning rate, which does not "
                          "support loss scaling: use train.mixed_precision mixed_bfloat16 or float32, "
                          "got mixed_float16")
    return TransferPlan(
        recipe="partial" if top_k else "frozen", top_k=int(top_k), views=int(cache.views), dtype=cache.dtype,
        encoder_lr_scale=train.encoder_lr_scale, layer_lr_decay=train.layer_lr_decay,
        frame_dropout=cache.frame_dropout,
    )


def _check_augment(config: SerConfig) -> None:
    if config.augment.specaugment.enabled:
        raise ConfigError("augment.specaugment.enabled: SpecAugment acts inside the frozen encoder's input, "
                          "which train.encoder_cache skips; turn it off, or set "
                          "train.encoder_cache.enabled: false to train end to end")
    if config.train.encoder_cache.views:
        return
    # Every waveform section (ser_tf.data.augment owns their transforms; not imported here, it loads
    # TensorFlow): those the cached views would honour and views: 0 would silently drop.
    enabled = [f"augment.{name}" for name, section in config.augment.items()
               if isinstance(section, WaveformAugment) and section.enabled]
    if config.audio.train_crop != "center":
        enabled.append(f"audio.train_crop: {config.audio.train_crop}")
    if enabled:
        raise ConfigError(
            f"{', '.join(enabled)} would be ignored: with train.encoder_cache.views: 0 the encoder sees "
            "each training clip once, clean and centre-cropped. Set train.encoder_cache.views: N to cache "
            "N augmented views per clip, or turn these off (augment.<name>.enabled: false, "
            "audio.train_crop: center)"
        )


# --- the datasets of cached states -------------------------------------------------------------

def _mask_dtype(view) -> str:
    """The dtype of the view's ``padding_mask`` input (``bool`` in ``ser_tf.models.transfer``)."""
    for tensor in _keras_inputs(view):
        if "padding_mask" in tensor.name:
            return tensor.dtype
    return "bool"


def _keras_inputs(model) -> list:
    inputs = model.inputs
    return list(inputs.values()) if isinstance(inputs, dict) else list(inputs)


def state_dataset(views: Sequence[EncodedSplit], *, training: bool, batch_size: int, seed: int,
                  frame_dropout: float = 0.0, num_classes: Optional[int] = None, mask_dtype="bool"):
    """``({"hidden_states", "padding_mask"}, label)`` batches from cached states in memory.

    Args:
        views: the clean split first, then its augmented views (same clips, same order); each
            training example draws one of them per epoch. Evaluation reads ``views[0]`` in order.
        training: shuffle, draw views, apply ``frame_dropout``.
        num_classes: one-hot labels of this many classes (label smoothing); None: int labels.
    """
    import tensorflow as tf

    labels = views[0].labels
    for other in views[1:]:
        if not np.array_equal(other.labels, labels):
            raise ValueError("the augmented views do not hold the clean split's clips in its order")
    stacks = [v.states for v in views]
    valids = [v.valid for v in views]
    n, frames = len(labels), stacks[0].shape[2]
    state_shape = stacks[0].shape[1:]

    def gather(index, view):
        states = np.stack([stacks[v][i] for i, v in zip(index, view)]).astype(np.float32)
        valid = np.asarray([valids[v][i] for i, v in zip(index, view)], np.int32)
        return states, valid

    ds = tf.data.Dataset.range(n)
    if training:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((ds, draws))
    use_views = training and len(views) > 1
    drop = float(frame_dropout) if training else 0.0

    @tf.autograph.experimental.do_not_convert
    def load(index, draw):
        view_seed, drop_seed = tf.unstack(tf.random.experimental.stateless_split(
            tf.stack([tf.constant(seed, tf.int64), draw]), num=2))
        size = tf.shape(index)[0]
        if use_views:
            view = tf.random.stateless_uniform([size], view_seed, maxval=len(views), dtype=tf.int32)
        else:
            view = tf.zeros([size], tf.int32)
        states, valid = tf.numpy_function(gather, [index, view], [tf.float32, tf.int32], stateful=False)
        states.set_shape((None, *state_shape))
        valid.set_shape((None,))
        mask = tf.sequence_mask(valid, frames)
        if drop:
            kept = tf.logical_and(mask, tf.random.stateless_uniform([size, frames], drop_seed) >= drop)
            mask = tf.where(tf.reduce_any(kept, axis=1, keepdims=True), kept, mask)  # keep >= 1 frame
        label = tf.gather(labels, index)
        if num_classes:
            label = tf.one_hot(label, num_classes)
        return {"hidden_states": states, "padding_mask": tf.cast(mask, mask_dtype)}, label

    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# --- two (or more) learning rates --------------------------------------------------------------

class _Groups:
    """Plain holder, so that Keras does not track the optimizers and variables a second time."""

    def __init__(self, groups):
        self.groups = groups


def multi_rate_model(inner, groups):
    """A training-only wrapper of ``inner`` that applies one optimizer per group of variables.

    Args:
        inner: the model to train (its layers are trained in place).
        groups: ``[(optimizer, [variables])]`` covering ``inner``'s trainable variables; compile
            the wrapper with the first optimizer (it counts the steps), then call
            ``build_optimizers()``.
    """
    return _multi_rate_class()(inner, groups)


@functools.lru_cache(maxsize=None)
def _multi_rate_class():
    import keras
    import tensorflow as tf

    class _MultiRateModel(keras.Model):
        """Trains ``inner`` with one optimizer per group of its trainable variables.

        ``groups``: ``[(optimizer, [variables])]``; the first optimizer is the one to ``compile``
        with (it counts the steps). Used only for training: it holds ``inner`` and is never saved.
        """

        def __init__(self, inner, groups, **kwargs):
            super().__init__(name=f"{inner.name}_multi_rate", **kwargs)
            self.inner = inner
            self._rate_groups = _Groups(list(groups))
            self.built = True  # inner is built; BackupAndRestore and fit() check this

        def call(self, inputs, training=None):
            return self.inner(inputs, training=training)

        def build_optimizers(self):
            for optimizer, variables in self._rate_groups.groups:
                optimizer.build(variables)

        def train_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
                self._loss_tracker.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
            variables = self.trainable_variables
            gradients = dict(zip((id(v) for v in variables), tape.gradient(loss, variables)))
            for optimizer, group in self._rate_groups.groups:
                optimizer.apply([gradients[id(v)] for v in group], group)
            return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    return _MultiRateModel


_LAYER_INDEX = re.compile(r"(?:encoder|transformer)_layer_(\d+)")  # Whisper's, HuBERT's layers


def rate_groups(encoder_variables, *, base_rate: float, scale: float, decay: float) -> List[tuple]:
    """``[(rate, [variables])]`` for the fine-tuned encoder variables, top layer first.

    The top layer (the highest ``encoder_layer_<i>`` / ``transformer_layer_<i>`` in a variable's path, or a variable outside
    the numbered layers, e.g. the final LayerNorm) learns at ``base_rate * scale``; each layer
    below at ``decay`` times the rate of the layer above.
    """
    indexed = []
    for v in encoder_variables:
        found = _LAYER_INDEX.findall(v.path)
        indexed.append((int(found[-1]) if found else None, v))
    top = max((i for i, _ in indexed if i is not None), default=0)
    groups = {}
    for index, v in indexed:
        depth = 0 if index is None or decay == 1.0 else top - index
        groups.setdefault(depth, []).append(v)
    return [(base_rate * scale * decay ** depth, groups[depth]) for depth in sorted(groups)]


# --- the trainer -------------------------------------------------------------------------------

def _encode_fn(view, *, jit_compile: bool):
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def run(waves):
        out = view(waves, training=False)
        return out["hidden_states"], out["padding_mask"]

    def encode(waves):
        hidden, mask = run(tf.constant(waves))
        return np.asarray(hidden, np.float32), np.asarray(mask)

    return encode


def _encode_splits(split, bundle, config: SerConfig, *, view, fingerprint: str, plan: TransferPlan,
                   jit_compile: bool, records_train):
    """``{"train": [clean, view 1, ...], "val": [clean], "test": [clean]}`` and the cache stats;
    no ``"test"`` when the split has no test speakers (a final model)."""
    import keras

    from ser_tf.data.pipeline import make_dataset
    from ser_tf.training.targets import check_labels

    audio, batch_size, seed = config.audio, config.train.batch_size, config.seed
    encode = _encode_fn(view, jit_compile=jit_compile)
    common = dict(fingerprint=fingerprint, sample_rate=audio.sample_rate, duration=audio.duration,
                  dtype=plan.dtype, max_gb=config.train.encoder_cache.max_gb)
    compute = keras.mixed_precision.global_policy().compute_dtype
    clean = EncoderCache(crop=f"center/{compute}", **common)
    augmented = EncoderCache(crop=f"{audio.train_crop}+augment/{compute}", **common)
    out = {}
    parts = [("train", records_train), ("val", split.val)]
    if split.has_test:
        parts.append(("test", split.test))
    for name, records in parts:
        labels = bundle.labels_array(records)
        ds = make_dataset(records, labels, audio=audio, training=False, batch_size=batch_size, seed=seed,
                          cache="none")
        encoded = [encode_dataset(ds, encode=encode, cache=clean, batch_size=batch_size, total=len(records),
                                  desc=f"encoding {name}")]
        for v in range(1, plan.views + 1 if name == "train" else 1):
            ds = make_dataset(records, labels, audio=audio, augment=config.augment, training=True,
                              shuffle=False, batch_size=batch_size, seed=seed + v, cache="none")
            encoded.append(encode_dataset(ds, encode=encode, cache=augmented, batch_size=batch_size,
                                          total=len(records), desc=f"encoding {name}, view {v}"))
        check_labels(encoded[0].labels, labels, name)
        out[name] = encoded
    stats = CacheStats(**{key: value + getattr(augmented.stats, key) for key, value in clean.stats.as_dict().items()})
    return out, stats


def train_transfer(split, bundle, config: SerConfig, *, plan: TransferPlan, fold_dir, rt, strategy,
                   verbose: int, log=print):
    """Train one split with ``plan``; returns ``(classifier, test probabilities, test labels,
    test records, record)`` where ``record`` (recipe, cache hits and misses) goes into the report.
    A split without test speakers (a final model) returns ``None``, ``None`` and ``[]`` for the
    test part: nothing is encoded or predicted for it.

    The classifier holds the trained layers; the caller saves it and writes the report.
    """
    import time

    from ser_tf.data import balance
    from ser_tf.models import transfer as views_lib
    from ser_tf.models.registry import build_model
    from ser_tf import runs
    from ser_tf.training import callbacks as callbacks_lib, optim, resume
    from ser_tf.training.targets import loss_from_config
    from ser_tf.training.tracking import tracking_context

    train_cfg = config.train
    n_classes = len(bundle.label_set.classes)
    train_records = split.train
    if config.data.balance == "oversample":
        train_records = balance.oversample(train_records, seed=config.seed)
    with strategy.scope():
        model = build_model(config.arch, num_classes=n_classes, config=config)
        head = views_lib.head_view(model)
        if plan.recipe == "frozen":
            lower, trained = views_lib.encoder_view(model), head
        else:
            lower, trained = views_lib.split_encoder(model, top_k=plan.top_k)
    started = time.time()
    encoded, stats = _encode_splits(split, bundle, config, view=lower, plan=plan, jit_compile=rt.jit_compile,
                                    fingerprint=views_lib.encoder_fingerprint(model, top_k=plan.top_k or None),
                                    records_train=train_records)
    record = {**plan.describe(), "cache": {**stats.as_dict(), "seconds": round(time.time() - started, 1)}}
    log(f"[{split.name}] transfer recipe {plan.describe()}; encoder cache: {stats.hits} hits, "
        f"{stats.misses} misses, {stats.recovered} recovered ({record['cache']['seconds']:.0f} s)")

    mask_dtype = _mask_dtype(trained)
    one_hot = n_classes if train_cfg.label_smoothing > 0 else None
    datasets = {
        name: state_dataset(encoded[name], training=name == "train", batch_size=train_cfg.batch_size,
                            seed=config.seed, frame_dropout=plan.frame_dropout,
                            num_classes=one_hot if name != "test" else None, mask_dtype=mask_dtype)
        for name in encoded
    }
    train_labels = encoded["train"][0].labels
    steps = int(np.ceil(len(train_labels) / train_cfg.batch_size))
    with strategy.scope():
        head_optimizer = optim.make_optimizer(train=train_cfg, steps_per_epoch=steps)
        if plan.recipe == "frozen":
            fitted = trained
        else:
            head_ids = {id(v) for v in head.trainable_variables}
            encoder_vars = [v for v in trained.trainable_variables if id(v) not in head_ids]
            head_vars = [v for v in trained.trainable_variables if id(v) in head_ids]
            rates = rate_groups(encoder_vars, base_rate=train_cfg.learning_rate,
                                scale=plan.encoder_lr_scale, decay=plan.layer_lr_decay)
            groups = [(head_optimizer, head_vars)] + [
                (optim.make_optimizer(train=dataclasses.replace(train_cfg, learning_rate=rate),
                                      steps_per_epoch=steps), variables)
                for rate, variables in rates
            ]
            fitted = multi_rate_model(trained, groups)
            record["encoder_learning_rates"] = [rate for rate, _ in rates]  # top layer first
        fitted.compile(optimizer=head_optimizer, loss=loss_from_config(config), metrics=["accuracy"],
                       jit_compile=rt.jit_compile)
        if plan.recipe == "frozen":
            head_optimizer.build(fitted.trainable_variables)
        else:
            fitted.build_optimizers()
    val_labels = encoded["val"][0].labels
    tracking = tracking_context(config, class_names=bundle.label_set.classes, fold_dir=fold_dir,
                                split_name=split.name)
    cbs = callbacks_lib.make_callbacks(train=train_cfg, fold_dir=fold_dir, val_dataset=datasets["val"],
                                       val_labels=val_labels, verbose=verbose, tracking=tracking)
    class_weight = None
    if config.data.balance == "class_weight":
        class_weight = balance.class_weights(train_labels, num_classes=n_classes)
    # A resumed fold drops the history rows of an epoch logged but not backed up (it trains it
    # again). Its data order is not restored: this fit starts a new iterator each epoch.
    resume.resume_point(runs.RunFolder(fold_dir))
    fitted.fit(datasets["train"], validation_data=datasets["val"], epochs=train_cfg.epochs, callbacks=cbs,
               class_weight=class_weight, verbose=verbose, shuffle=False)
    if "test" not in datasets:
        return model, None, None, [], record
    y_prob = fitted.predict(datasets["test"], verbose=0)
    return model, y_prob, encoded["test"][0].labels, list(split.test), record
