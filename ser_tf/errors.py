"""One error hierarchy for ser_tf.

Every message names the offending value (a path, a key, a label) and says what was expected, so a
user can fix the input without reading the code.
"""


class SerError(Exception):
    """Base class of every error ser_tf raises on purpose."""


class ParameterError(SerError, ValueError):
    """An argument or config value is out of its valid range or of the wrong kind."""


class ConfigError(ParameterError):
    """A YAML config or a ``--set key=value`` override is invalid."""


class DataError(SerError):
    """A corpus folder, manifest or label set cannot be used as asked."""


class LabelError(DataError, ValueError):
    """An emotion or label-set name is unknown, or a label set cannot be filled by the data."""


class AudioError(SerError):
    """An audio file cannot be read, or its content is unusable (empty, too short, silent).

    Attributes:
        path: the file concerned, or ``None`` for in-memory audio.
        reason: the message without the path, for callers that name the file their own way
            (the web app names an upload by its display name, not its temporary file).
    """

    def __init__(self, message: str, *, path=None):
        self.path = None if path is None else str(path)
        self.reason = message
        prefix = f"{self.path}: " if self.path else ""
        super().__init__(prefix + message)


class ModelError(SerError):
    """A model file is missing, corrupt, or not a ser_tf model."""


class DeviceError(SerError):
    """An audio input device (PortAudio / sounddevice) is missing or unusable."""


class StorageError(SerError):
    """The app's database cannot be opened, migrated or written as asked (its URL, its schema
    version, a failed transaction)."""


class TrainingDivergedError(SerError):
    """The training loss became NaN or infinite; the message names the epoch and batch."""


class DiskFullError(SerError):
    """A file could not be written because its device is full; the message names the file."""


class MissingDependencyError(SerError):
    """An optional package a feature needs is not installed; the message says what to install."""


class ExportError(ModelError):
    """A model cannot be exported as asked: an op the target format lacks (the message names the
    layer and the op), a bad output path, or calibration data that cannot be used."""


class DistributedError(SerError):
    """Multi-worker training cannot start or go on: an invalid ``TF_CONFIG``, or a peer that died
    or stopped answering (the message names it)."""
