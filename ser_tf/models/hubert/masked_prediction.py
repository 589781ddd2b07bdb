"""HuBERT's masked-prediction pretraining graph: the model code of ``ser_tf.training.hubert_pretrain``.

The transformer output is projected to ``projection_dim`` and scored against learned cluster
embeddings by cosine similarity / ``temperature`` (``ClusterLogits``); the cross-entropy is taken
over masked frames only (``MaskedClusterLoss``, targets ``-1`` elsewhere). Both are registered with
``keras.saving`` under the ``ser_tf`` package. The targets, the span masks and the training loop
live in ``ser_tf/training/hubert_pretrain.py``.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ser_tf")
class ClusterLogits(keras.layers.Layer):
    """Cosine similarity of each frame to learned cluster embeddings, divided by ``temperature``.

    Input ``(batch, frames, dim)``; output ``(batch, frames, num_clusters)`` float32 logits.
    """

    def __init__(self, *, num_clusters: int, temperature: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.num_clusters, self.temperature = int(num_clusters), float(temperature)

    def build(self, input_shape):
        self.cluster_embeddings = self.add_weight(
            name="cluster_embeddings", shape=(self.num_clusters, input_shape[-1]), initializer="random_normal"
        )
        self.built = True

    def call(self, inputs):
        x = ops.normalize(ops.cast(inputs, "float32"), axis=-1)
        e = ops.normalize(ops.cast(self.cluster_embeddings, "float32"), axis=-1)
        return ops.matmul(x, ops.transpose(e)) / self.temperature

    def get_config(self):
        return {**super().get_config(), "num_clusters": self.num_clusters, "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="ser_tf")
class MaskedClusterLoss(keras.losses.Loss):
    """Cross-entropy over the frames whose target is >= 0 (masked real frames), averaged over them."""

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")
        scored = ops.cast(labels >= 0, "float32")
        ce = keras.losses.sparse_categorical_crossentropy(ops.maximum(labels, 0), y_pred, from_logits=True)
        return ops.sum(ce * scored) / ops.maximum(ops.sum(scored), 1.0)


def build_pretraining_model(backbone, *, num_clusters: int, projection_dim: int = 256,
                            temperature: float = 0.1) -> keras.Model:
    """``{waveform, padding_mask, span_mask}`` -> cluster logits, sharing ``backbone``'s weights."""
    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
    spans = keras.Input(shape=(None,), dtype="int32", name="span_mask")
    outputs = backbone.encode(waveform, padding_mask, spans)
    x = keras.layers.Dense(int(projection_dim), name="final_proj")(outputs["sequence_output"])
    logits = ClusterLogits(num_clusters=num_clusters, temperature=temperature, dtype="float32", name="cluster_logits")(x)
    return keras.Model({"waveform": waveform, "padding_mask": padding_mask, "span_mask": spans}, logits,
                       name="hubert_pretraining")
