"""16-bit PCM WAV samples in the TensorFlow graph, without ``tf.audio.decode_wav``'s slow loop.

``tf.audio.decode_wav`` converts sample by sample with bounds checks: on RAVDESS it cost 0.53 s
of CPU per epoch at 16 kHz and 1.32 s at 48 kHz, three to five times the time of
``tf.io.decode_raw`` over the same bytes (0.20 s and 0.26 s; ``docs/perf-notes/features.md``).
:func:`decode_pcm16` walks the RIFF chunks in the graph to the ``data`` chunk and reinterprets its
bytes as little-endian int16, giving the same values as ``decode_wav`` (``int16 / 32768``), bit for
bit. The caller knows the format from the header it probed (16-bit PCM, ``channels``), so only
the chunk walk happens here.
"""

from __future__ import annotations

from ser_tf.utils.checks import positive_int

__all__ = ["decode_pcm16"]


def decode_pcm16(contents, *, channels: int, path=""):
    """Samples of a 16-bit PCM WAV file's bytes, float32 ``(frames, channels)`` in [-1, 1).

    Args:
        contents: scalar string tensor, the whole file (``tf.io.read_file``).
        channels: interleaved channels of the file (> 0), from its probed header.
        path: string (tensor) naming the file in the error raised when no ``data`` chunk is found.

    Returns:
        float32 ``(frames, channels)``, ``int16 / 32768``; a trailing partial frame (a truncated
        file) is dropped, as libsndfile does.

    Raises:
        ParameterError: ``channels`` is not a positive integer.
        tf.errors.InvalidArgumentError (when run): no ``data`` chunk in the file (also a file
            shorter than its 12-byte RIFF header).
    """
    import tensorflow as tf

    channels = positive_int(channels, name="decode_pcm16: channels")
    n = tf.strings.length(contents, unit="BYTE", name="bytes")

    def u32(at):
        raw = tf.cast(tf.io.decode_raw(tf.strings.substr(contents, at, 4), tf.uint8), tf.int64)
        return raw[0] + raw[1] * 256 + raw[2] * 65536 + raw[3] * 16777216

    def not_data(at):  # substr at most at the end: both sides of logical_and run
        return tf.logical_and(at + 8 <= n, tf.strings.substr(contents, tf.minimum(at, n), 4) != "data")

    def next_chunk(at):  # a chunk is its 8-byte header, its size, and a pad byte if odd
        size = u32(at + 4)
        end = tf.cast(at, tf.int64) + 8 + size + size % 2
        return (tf.cast(tf.minimum(end, tf.cast(n, tf.int64)), tf.int32),)  # a bad size ends it

    (at,) = tf.while_loop(not_data, next_chunk, (tf.minimum(12, n),))  # after RIFF.WAVE
    found = tf.debugging.Assert(at + 8 <= n, ["no data chunk in the 16-bit WAV file", path])
    with tf.control_dependencies([found]):
        size = tf.minimum(u32(at + 4), tf.cast(n - at - 8, tf.int64))
    frame_bytes = 2 * int(channels)
    size = tf.cast(size - size % frame_bytes, tf.int32)
    samples = tf.io.decode_raw(tf.strings.substr(contents, at + 8, size), tf.int16,
                               little_endian=True)
    return tf.reshape(tf.cast(samples, tf.float32) / 32768.0, [-1, int(channels)])
