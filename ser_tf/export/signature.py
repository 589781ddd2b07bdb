"""The serving signature every export carries: a waveform in, probabilities and labels out.

    serving_default(waveform: float32 (batch, samples), 16 kHz, in [-1, 1]) -> {
        "probabilities": float32 (batch, num_classes),   # the Keras model's output
        "label":         string  (batch,),               # the most probable class's name
        "class_names":   string  (num_classes,),         # names in the order of the probabilities
    }

The class names are a constant string tensor inside the graph, so a SavedModel or TFLite file
says which output is which emotion with no file beside it.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ser_tf.inference.backends import CLASS_NAMES_OUTPUT, PROBABILITIES_OUTPUT, WAVEFORM_INPUT

LABEL_OUTPUT = "label"
OUTPUT_NAMES = (PROBABILITIES_OUTPUT, LABEL_OUTPUT, CLASS_NAMES_OUTPUT)


def serving_function(model, classes: Sequence[str], *, batch: Optional[int], samples: Optional[int]):
    """A ``tf.function`` with the signature above, over ``model`` (called with ``training=False``).

    Args:
        model: a ser_tf classifier, waveform ``(batch, samples)`` -> probabilities.
        classes: class names in output order.
        batch, samples: the input's static sizes; ``None`` leaves a size free (TFLite needs both
            fixed: its LSTM and convolution kernels are planned for one shape).
    """
    import tensorflow as tf

    names = tf.constant(list(classes), dtype=tf.string)

    def serve(waveform):
        probabilities = model(waveform, training=False)
        return {
            PROBABILITIES_OUTPUT: probabilities,
            LABEL_OUTPUT: tf.gather(names, tf.argmax(probabilities, axis=-1)),
            CLASS_NAMES_OUTPUT: tf.identity(names),
        }

    spec = tf.TensorSpec([batch, samples], tf.float32, name=WAVEFORM_INPUT)
    return tf.function(serve, input_signature=[spec], autograph=False)
