"""ser_tf: speech emotion recognition on Keras 3 and TensorFlow.

Importing the package is cheap on purpose: TensorFlow is imported by the sub-modules that need it
(``ser_tf.layers``, ``ser_tf.models``, ``ser_tf.data.pipeline``), so that ``python -m ser_tf.data``
and the CLIs' ``--help`` start fast.
"""

__version__ = "0.1.0"
