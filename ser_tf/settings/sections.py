"""The sections of the typed config. Their field defaults are the one source of every default.

Audio and front-end numbers come from ``ser_tf.constants``; everything else is decided here.
Comments give units and the accepted values; range checks stay with the code that owns the
meaning (the pipeline checks crops, ``augment`` the ranges, ``optim`` the optimiser names).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Optional, Tuple, Union

from ser_tf import constants as C
from ser_tf.settings.base import Section, section

__all__ = [
    "DataConfig", "DemoConfig", "AudioConfig", "FeaturesConfig", "AugmentConfig", "NoiseAugment",
    "ShiftAugment", "PitchAugment", "StretchAugment", "BandpassAugment", "SpeedAugment",
    "GainAugment", "BabbleAugment", "SpecAugmentConfig",
    "EarlyStoppingConfig", "ReduceLRConfig", "EncoderCacheConfig", "TrackingConfig", "TrainConfig",
    "LABEL_CONFLICT_POLICIES",
]

# data.on_label_conflict: identical clips whose labels disagree (ser_tf.data.manifest.load_data).
LABEL_CONFLICT_POLICIES = ("drop", "keep-first", "error")


@section
class DataConfig(Section):
    """Which corpora, labels and split protocol (``data:``)."""

    key: ClassVar[str] = "data"
    corpora: Tuple[str, ...] = ()  # "ravdess=PATH", ...; empty: the built-in demo corpus
    labels: str = "auto"  # common6 | ravdess8 | all9 | all10 | auto | "angry,happy,..."
    split: str = "speaker"  # speaker | kfold | loso | random (random is flagged as optimistic)
    val_fraction: float = 0.15  # share of speakers held out for validation
    test_fraction: float = 0.2  # share of speakers for testing (speaker split); 0: none, a final model
    n_folds: int = 6  # kfold: folds over speaker groups (RAVDESS: 6 folds of 4 actors)
    only_folds: Optional[Tuple[int, ...]] = None  # kfold/loso: run just these folds; None = all
    balance: str = "none"  # none | oversample | class_weight (training split only)
    cache: str = "memory"  # memory | none | a file path prefix for tf.data's file cache
    # Identical clips with different labels: drop (every copy) | keep-first | error.
    on_label_conflict: str = "drop"
    # Per-corpus scanner options, e.g. {folder: {speaker_pattern: "^(?P<speaker>..)_"}}.
    scan_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@section
class DemoConfig(Section):
    """The built-in demo corpus, used when ``data.corpora`` is empty (``demo:``)."""

    key: ClassVar[str] = "demo"
    n_speakers: int = 8
    clips_per_emotion: int = 8  # 512 clips, normal and strong intensity
    epochs: int = 25  # the demo's epoch budget unless --epochs is given: about two minutes


@section
class AudioConfig(Section):
    """What the model sees (``audio:``)."""

    key: ClassVar[str] = "audio"
    sample_rate: int = C.SAMPLE_RATE  # Hz; every clip is resampled to it
    duration: float = C.DURATION  # seconds per example
    train_crop: str = "random"  # random | center: how training clips longer than duration are cut
    eval_crop: str = "center"  # recorded only: evaluation always centre-crops (deterministic)


@section
class FeaturesConfig(Section):
    """The front-end layer inside the model (``features:``), see ``ser_tf.layers.frontend``."""

    key: ClassVar[str] = "features"
    kind: str = "logmel"  # logmel | mfcc | raw (HuBERT: its conv encoder is the front-end)
    n_mels: int = C.N_MELS
    n_fft: int = C.N_FFT
    win_length: int = C.WIN_LENGTH  # samples
    hop_length: int = C.HOP_LENGTH  # samples
    fmin: float = C.FMIN  # Hz
    fmax: float = C.FMAX  # Hz
    normalization: str = "minmax"  # minmax (per utterance, to [0, 1]) | meanvar | none
    n_mfcc: int = C.N_MFCC  # mfcc only: 40 + deltas + delta-deltas = 120 features
    top_db: Optional[float] = C.TOP_DB  # dynamic range kept below the peak, dB
    deltas: bool = True  # mfcc only
    delta_width: int = C.DELTA_WIDTH  # mfcc only, frames


@section
class WaveformAugment(Section):
    """A waveform transform of the training split: on or off, applied with probability ``p``."""

    enabled: bool = False
    p: float = 0.5


@section
class NoiseAugment(WaveformAugment):
    key: ClassVar[str] = "augment.noise"
    stddev: float = 0.005  # waveform units (full scale 1.0); used when snr_db is null
    # [min, max] dB: the SNR is drawn in this range, relative to the example's own RMS (stddev is
    # then ignored); null: a fixed stddev.
    snr_db: Optional[Tuple[float, float]] = None


@section
class ShiftAugment(WaveformAugment):
    key: ClassVar[str] = "augment.shift"
    max_seconds: float = 0.1


@section
class PitchAugment(WaveformAugment):
    key: ClassVar[str] = "augment.pitch"
    max_semitones: float = 2.0


@section
class StretchAugment(WaveformAugment):
    key: ClassVar[str] = "augment.stretch"
    min_rate: float = 0.9
    max_rate: float = 1.1


@section
class BandpassAugment(WaveformAugment):
    key: ClassVar[str] = "augment.bandpass"
    low_hz: Tuple[float, float] = (50.0, 300.0)  # the low cutoff is drawn in this range (Hz)
    high_hz: Tuple[float, float] = (3400.0, 7600.0)  # and the high cutoff in this one


@section
class SpeedAugment(WaveformAugment):
    """Speed perturbation (Kaldi, SpeechBrain): resampling, so tempo and pitch change together."""

    key: ClassVar[str] = "augment.speed"
    min_rate: float = 0.9  # > 0; the rate is drawn in [min_rate, max_rate], > 1 faster and higher
    max_rate: float = 1.1


@section
class GainAugment(WaveformAugment):
    key: ClassVar[str] = "augment.gain"
    min_db: float = -6.0  # the gain is drawn in [min_db, max_db] dB (amplitude times 10 ** (g / 20))
    max_db: float = 6.0


@section
class BabbleAugment(WaveformAugment):
    """Babble: other training clips summed and mixed in at an SNR (``ser_tf.data.augment``)."""

    key: ClassVar[str] = "augment.babble"
    # [min, max] dB: the SNR is drawn in this range, relative to the example's own RMS.
    snr_db: Tuple[float, float] = (5.0, 25.0)
    talkers: Tuple[int, int] = (3, 6)  # [min, max]: the number of talkers is drawn in this range
    # Training clips decoded once per dataset into the bank the talkers are drawn from (>= the
    # most talkers); a split with fewer clips uses them all.
    bank_size: int = 64


@section
class SpecAugmentConfig(Section):
    """A model layer (``ser_tf.layers.spec_augment``), not a waveform transform."""

    key: ClassVar[str] = "augment.specaugment"
    enabled: bool = False
    time_masks: int = 2
    time_width: int = 20  # frames
    freq_masks: int = 2
    freq_width: int = 8  # mel bands


@section
class AugmentConfig(Section):
    """``augment:``; noise and shift are on by default, the rest off."""

    key: ClassVar[str] = "augment"
    noise: NoiseAugment = dataclasses.field(default_factory=lambda: NoiseAugment(enabled=True))
    shift: ShiftAugment = dataclasses.field(default_factory=lambda: ShiftAugment(enabled=True))
    pitch: PitchAugment = dataclasses.field(default_factory=PitchAugment)
    stretch: StretchAugment = dataclasses.field(default_factory=StretchAugment)
    bandpass: BandpassAugment = dataclasses.field(default_factory=BandpassAugment)
    speed: SpeedAugment = dataclasses.field(default_factory=SpeedAugment)
    gain: GainAugment = dataclasses.field(default_factory=GainAugment)
    babble: BabbleAugment = dataclasses.field(default_factory=BabbleAugment)
    specaugment: SpecAugmentConfig = dataclasses.field(default_factory=SpecAugmentConfig)


@section
class EarlyStoppingConfig(Section):
    key: ClassVar[str] = "train.early_stopping"
    monitor: str = "val_loss"  # val_loss | val_accuracy | val_ua (validation speakers only)
    patience: int = 12  # epochs
    restore_best_weights: bool = True


@section
class ReduceLRConfig(Section):
    key: ClassVar[str] = "train.reduce_lr"
    monitor: str = "val_loss"
    factor: float = 0.5
    patience: int = 5  # epochs
    min_lr: float = 1.0e-5


@section
class EncoderCacheConfig(Section):
    """Cached encoder outputs for a pretrained encoder trained with ``model.freeze: all | top_k``
    (``ser_tf.training.encoder_cache``, ``ser_tf.training.transfer``); other archs ignore it."""

    key: ClassVar[str] = "train.encoder_cache"
    enabled: bool = True  # false: the ordinary end-to-end path on waveforms (slow: encoder every step)
    views: int = 0  # augmented views per training clip cached beside the clean one (0: clean only)
    dtype: str = "float16"  # float16 | float32: precision of the states on disk and in memory
    frame_dropout: float = 0.0  # training only: share of valid frames dropped from the mask, [0, 1)
    max_gb: float = 50.0  # the cache folder is pruned (oldest entries first) past this size


@section
class TrackingConfig(Section):
    """What a run logs for experiment tracking (``train.tracking``), see ``ser_tf.training.tracking``.

    The confusion matrix and the per-class recall are measured on the validation speakers only.
    """

    key: ClassVar[str] = "train.tracking"
    tensorboard: bool = True  # logs/ in the run folder: Keras's scalars, hparams, recall, confusion matrix
    confusion_matrix_every: int = 5  # epochs (>= 1) between confusion-matrix images; the last epoch always has one
    wandb_project: Optional[str] = None  # Weights & Biases project (train.py --wandb PROJECT); null: no W&B


@section
class TrainConfig(Section):
    """Optimisation and device settings (``train:``)."""

    key: ClassVar[str] = "train"
    epochs: int = 100
    batch_size: int = 32
    optimizer: str = "adam"  # adam | adamw
    learning_rate: float = 0.001
    weight_decay: float = 0.0  # adamw only
    label_smoothing: float = 0.0
    early_stopping: EarlyStoppingConfig = dataclasses.field(default_factory=EarlyStoppingConfig)
    # null: no ReduceLROnPlateau; a learning-rate schedule other than constant also turns it off.
    reduce_lr: Optional[ReduceLRConfig] = dataclasses.field(default_factory=ReduceLRConfig)
    checkpoint_monitor: str = "val_loss"  # recorded only: selection follows early_stopping.monitor
    jit_compile: Union[bool, str] = "auto"  # auto: XLA on GPU only (slower on CPU); true | false
    mixed_precision: Union[bool, str] = "auto"  # auto: mixed on GPU, float32 on CPU
    strategy: str = "auto"  # auto | default | mirrored | multiworker (TF_CONFIG); see training/distribute.py
    per_replica_batch: bool = False  # true: batch_size is per replica, learning rate x replicas
    collective_timeout_s: float = 300.0  # multiworker: a collective op waiting longer fails the job
    peer_timeout_s: float = 30.0  # multiworker: a worker without a heartbeat for this long is dead
    cluster_wait_s: float = 600.0  # multiworker: how long the workers wait for each other at start
    deterministic: Union[bool, str] = "auto"  # auto: op determinism on CPU, off on GPU
    lr_schedule: str = "constant"  # constant | linear (warm-up then linear decay to 0)
    warmup_ratio: float = 0.0  # share of all steps spent warming up (linear schedule)
    clipnorm: Optional[float] = None  # gradient clipping by norm, e.g. 1.0
    gradient_accumulation_steps: int = 1
    checkpoint_every_epoch: bool = True  # keep a resumable backup in the run folder (--resume)
    encoder_cache: EncoderCacheConfig = dataclasses.field(default_factory=EncoderCacheConfig)
    # model.freeze: top_k: the fine-tuned encoder layers learn at learning_rate * encoder_lr_scale
    # (the top one), and each layer below at layer_lr_decay times the rate of the layer above.
    encoder_lr_scale: float = 0.1  # (0, 1]
    layer_lr_decay: float = 1.0  # (0, 1]; 1: one rate for all fine-tuned encoder layers
    tracking: TrackingConfig = dataclasses.field(default_factory=TrackingConfig)
