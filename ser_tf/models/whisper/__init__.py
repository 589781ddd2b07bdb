"""Whisper family: Whisper's audio encoder as a speech-emotion backbone (issue 9).

``WhisperEncoderBackbone`` (``backbone.py``) encodes ``WhisperLogMel`` features
(``ser_tf.layers.whisper_log_mel``) on each clip's own length; ``presets.py`` holds the OpenAI
model sizes; ``convert.py`` maps Hugging Face and CTranslate2 checkpoint folders to its weights.
No arch is registered yet: the classifier recipe comes with issue 9.
"""

from ser_tf.models.whisper.backbone import WhisperEncoderBackbone, backbone_inputs
from ser_tf.models.whisper.presets import get_preset, list_presets

__all__ = ["WhisperEncoderBackbone", "backbone_inputs", "get_preset", "list_presets"]
