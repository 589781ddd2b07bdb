#!/usr/bin/env python
"""Train a speech-emotion model: ``python train.py --arch cnn_lstm``. See ``--help``."""

from ser_tf.training.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
