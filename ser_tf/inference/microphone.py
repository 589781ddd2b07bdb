"""Microphone capture through sounddevice (PortAudio), imported only when a command needs it.

Every failure a user can meet -- no PortAudio library, no input device, a device id that does not
exist, a device that refuses to open -- becomes a ``DeviceError`` whose message says what to do.
"""

from __future__ import annotations

import dataclasses
import queue
from typing import Iterator, List, Optional, Union

import numpy as np

from ser_tf.constants import SAMPLE_RATE, samples_for
from ser_tf.errors import DeviceError, ParameterError

# Capture format. Nearly every microphone delivers 16-bit PCM, so asking for it lets ALSA pass the
# samples through unconverted (its format-conversion path has been seen to drop periods); they are
# scaled to float32 in [-1, 1) here.
CAPTURE_DTYPE = "int16"
_INT16_SCALE = 1.0 / 32768.0

PORTAUDIO_HINT = (
    "the PortAudio library is not installed; install the Debian package libportaudio2 "
    "(apt-get install libportaudio2)"
)


@dataclasses.dataclass(frozen=True)
class InputDevice:
    """An audio input as PortAudio lists it."""

    index: int
    name: str
    channels: int
    default_samplerate: float
    hostapi: str
    is_default: bool


def import_sounddevice():
    """``import sounddevice``, turning a missing PortAudio into a ``DeviceError`` with the fix."""
    try:
        import sounddevice
    except OSError as err:  # sounddevice raises OSError('PortAudio library not found')
        raise DeviceError(f"{PORTAUDIO_HINT} ({err})") from None
    return sounddevice


def _default_input(sd) -> int:
    try:
        default = sd.default.device[0]
    except (TypeError, IndexError):
        default = sd.default.device
    return -1 if default is None else int(default)


def list_input_devices() -> List[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = import_sounddevice()
    default = _default_input(sd)
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as err:
        raise DeviceError(f"cannot list audio devices: {err}") from None
    return [
        InputDevice(
            index=int(d["index"]), name=str(d["name"]), channels=int(d["max_input_channels"]),
            default_samplerate=float(d["default_samplerate"]),
            hostapi=str(hostapis[d["hostapi"]]["name"]), is_default=int(d["index"]) == default,
        )
        for d in devices
        if d["max_input_channels"] > 0
    ]


def parse_device(text: Optional[str]) -> Optional[Union[int, str]]:
    """``--device`` value: an integer index, or a case-insensitive substring of a device name."""
    if text is None:
        return None
    text = str(text).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def resolve_input_device(device: Optional[Union[int, str]] = None) -> InputDevice:
    """The input device ``device`` names (``None``: the system default).

    Raises:
        DeviceError: no input device at all, or ``device`` matches none (the message lists them).
    """
    devices = list_input_devices()
    if not devices:
        raise DeviceError(
            "no audio input device found (PortAudio lists none); connect a microphone, or check "
            "that ALSA/PulseAudio can see one (arecord -l)"
        )
    listing = "; ".join(f"{d.index}: {d.name}" for d in devices)
    if device is None:
        for d in devices:
            if d.is_default:
                return d
        raise DeviceError(f"no default input device is set; pick one with --device ID ({listing})")
    if isinstance(device, int):
        for d in devices:
            if d.index == device:
                return d
        raise DeviceError(
            f"input device {device} does not exist; input devices are: {listing} (see --list-devices)"
        )
    matches = [d for d in devices if str(device).lower() in d.name.lower()]
    if len(matches) != 1:
        what = "matches no" if not matches else "matches several"
        raise DeviceError(f"--device {device!r} {what} input device; input devices are: {listing}")
    return matches[0]


def _capture_rate(sd, device: InputDevice, sample_rate: int) -> int:
    """``sample_rate`` if the device accepts it, else the device's own default rate."""
    try:
        sd.check_input_settings(device=device.index, samplerate=sample_rate, channels=1, dtype=CAPTURE_DTYPE)
        return sample_rate
    except (sd.PortAudioError, ValueError):
        return int(device.default_samplerate)


def record(seconds: float, *, device: Optional[Union[int, str]] = None,
           sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Record ``seconds`` of mono audio from an input device.

    Args:
        seconds: length in seconds (> 0).
        device: index or name substring; ``None`` for the default input.
        sample_rate: rate of the returned audio in Hz (captured at the device's rate and resampled
            when the device refuses it).

    Returns:
        float32 ``(round(seconds * sample_rate),)`` in [-1, 1].

    Raises:
        DeviceError: see ``resolve_input_device``; or the device cannot be opened.
    """
    if not seconds > 0:
        raise ParameterError(f"record duration must be > 0 seconds, got {seconds!r}")
    sd = import_sounddevice()
    dev = resolve_input_device(device)
    rate = _capture_rate(sd, dev, sample_rate)
    try:
        x = sd.rec(samples_for(seconds, sample_rate=rate), samplerate=rate, channels=1,
                   dtype=CAPTURE_DTYPE, device=dev.index, blocking=True)
    except (sd.PortAudioError, ValueError) as err:
        raise DeviceError(f"cannot record from input device {dev.index} ({dev.name}): {err}") from None
    return _to_rate(x[:, 0], rate, sample_rate)


def _to_rate(x: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """16-bit samples at ``rate`` -> float32 in [-1, 1) at ``sample_rate``."""
    x = np.asarray(x, dtype=np.float32) * np.float32(_INT16_SCALE)
    if rate == sample_rate:
        return x
    from ser_tf.data.audio_io import resample

    return resample(x, orig_sr=rate, target_sr=sample_rate)


# How long a stream may deliver nothing before it is declared dead (seconds). Waiting in short
# slices keeps Ctrl-C responsive.
_STALL_S = 5.0


def _next_chunk(chunks: "queue.Queue[np.ndarray]", dev: InputDevice) -> np.ndarray:
    waited = 0.0
    while waited < _STALL_S:
        try:
            return chunks.get(timeout=0.25)
        except queue.Empty:
            waited += 0.25
    raise DeviceError(f"input device {dev.index} ({dev.name}) delivered no audio for {_STALL_S:g} s")


def iter_microphone(*, device: Optional[Union[int, str]] = None, sample_rate: int = SAMPLE_RATE,
                    block_seconds: float = 0.1, max_seconds: Optional[float] = None) -> Iterator[np.ndarray]:
    """Yield mono float32 chunks from an input device until closed (or ``max_seconds`` of audio).

    PortAudio's callback only queues copies, so capture never waits on the classifier. A chunk
    holds everything queued since the last one: when the consumer falls behind, chunks grow
    (``Predictor.stream(drop_late=True)`` then skips the stale windows) instead of audio being lost
    to an input overflow.

    Raises:
        DeviceError: see ``resolve_input_device``; or the stream cannot be opened.
    """
    sd = import_sounddevice()
    dev = resolve_input_device(device)
    rate = _capture_rate(sd, dev, sample_rate)
    limit = None if max_seconds is None else samples_for(max_seconds, sample_rate=rate)
    chunks: "queue.Queue[np.ndarray]" = queue.Queue()
    queued = [0]

    def callback(indata, frames, time_info, status):  # runs on PortAudio's thread
        chunks.put(indata[:, 0].copy())
        queued[0] += frames
        if limit is not None and queued[0] >= limit:
            raise sd.CallbackStop  # everything needed is queued; stop capturing

    try:
        stream = sd.InputStream(samplerate=rate, channels=1, dtype=CAPTURE_DTYPE, device=dev.index,
                                blocksize=samples_for(block_seconds, sample_rate=rate), callback=callback)
    except (sd.PortAudioError, ValueError) as err:
        raise DeviceError(f"cannot open input device {dev.index} ({dev.name}): {err}") from None
    received = 0
    with stream:
        while limit is None or received < limit:
            parts = [_next_chunk(chunks, dev)]
            while True:
                try:
                    parts.append(chunks.get_nowait())
                except queue.Empty:
                    break
            x = np.concatenate(parts)
            if limit is not None:
                x = x[: limit - received]
            received += len(x)
            yield _to_rate(x, rate, sample_rate)
