"""Running one property of ``tests/fuzz`` under the loaded hypothesis profile."""

from __future__ import annotations

from hypothesis import given, settings

# Examples per property in CI, by cost: about 30 s in all on two cores. A decode_file case traces a
# graph (~0.5 s); a parse of train.py's flags takes ~10 ms.
CI_EXAMPLES = {
    "probe_audio": 30, "load_audio": 50, "decode_file": 15, "decode_pcm16": 20, "resample": 40,
    "fix_length": 50, "log_mel": 50, "mfcc": 50, "whisper_log_mel": 12, "open_shards": 50,
    "train_args": 60, "evaluate_args": 40, "audio_test_args": 60, "data_args": 60,
}


def run_property(name: str, strategy, check, *, max_examples=None) -> None:
    """``check`` over ``max_examples`` cases of ``strategy`` (default: the CI count of ``name``, or
    the profile's own when it is not ``ci``); hypothesis raises the shrunk failure, if any."""
    if max_examples is None:
        max_examples = CI_EXAMPLES[name] if settings._current_profile == "ci" else settings().max_examples
    settings(max_examples=max_examples)(given(strategy)(check))()
