"""Microphone capture against a real PortAudio + ALSA stack whose capture device plays a file.

PortAudio reads the ALSA configuration when it initialises, so the fixture re-initialises it after
pointing ``XDG_CONFIG_HOME`` at the fake microphone's ``asoundrc`` (and again afterwards).
"""

import ctypes.util
import sys

import numpy as np
import pytest

from ser_tf.errors import DeviceError
from ser_tf.inference import microphone
from tests.inference import support

pytestmark = pytest.mark.skipif(support.portaudio_missing(), reason=support.PORTAUDIO_SKIP)


def _reinit_portaudio():
    sd = microphone.import_sounddevice()
    sd._terminate()
    sd._initialize()


@pytest.fixture
def mic_audio(tmp_path, monkeypatch):
    audio = support.voice("happy", 3.0, seed=11)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(support.fake_microphone(tmp_path, audio)))
    _reinit_portaudio()
    yield support.pcm16(audio)
    monkeypatch.undo()
    _reinit_portaudio()


def test_devices_are_listed_and_resolved(mic_audio):
    devices = microphone.list_input_devices()
    names = [d.name for d in devices]
    assert "default" in names and "ser_tf_test_mic" in names
    default = microphone.resolve_input_device(None)
    assert default.is_default and default.name == "default"
    assert microphone.resolve_input_device(microphone.parse_device("ser_tf_test")).name == "ser_tf_test_mic"
    assert microphone.resolve_input_device(microphone.parse_device(str(default.index))) == default
    with pytest.raises(DeviceError, match="input device 99 does not exist; input devices are: .*default"):
        microphone.resolve_input_device(99)
    with pytest.raises(DeviceError, match="'usb mic' matches no input device"):
        microphone.resolve_input_device("usb mic")


def test_record_returns_what_the_device_captured(mic_audio):
    x = microphone.record(1.5)
    assert x.dtype == np.float32 and x.shape == (24000,)
    np.testing.assert_allclose(x, mic_audio[:24000], atol=1e-6)


def test_iter_microphone_stops_after_max_seconds(mic_audio):
    chunks = list(microphone.iter_microphone(max_seconds=2.0, block_seconds=0.1))
    x = np.concatenate(chunks)
    assert x.shape == (32000,)
    np.testing.assert_allclose(x, mic_audio[:32000], atol=1e-6)


def test_no_input_device_is_a_device_error(tmp_path, monkeypatch):
    # No asoundrc anywhere: only real sound cards remain, and CI machines have none.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    _reinit_portaudio()
    try:
        if microphone.list_input_devices():
            pytest.skip("this machine has a real sound card")
        with pytest.raises(DeviceError, match="no audio input device found"):
            microphone.record(1.0)
    finally:
        monkeypatch.undo()
        _reinit_portaudio()


def test_missing_portaudio_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    with pytest.raises(DeviceError, match=r"libportaudio2 \(apt-get install libportaudio2\)"):
        microphone.import_sounddevice()


def test_record_duration_must_be_positive():
    with pytest.raises(Exception, match="-1"):
        microphone.record(-1)
