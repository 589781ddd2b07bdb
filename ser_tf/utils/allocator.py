"""TensorFlow's pooling (BFC) allocator for CPU tensors, chosen before TensorFlow starts.

Why (issue 13): by default TensorFlow takes every CPU tensor from glibc ``malloc`` and gives it
back at once. One training step of the CNN-RNN recipes at batch 32 allocates about 700 MB of
activations, gradients and convolution buffers in pieces of 20-180 MB: above glibc's mmap
threshold (and above the 64 MB a per-thread arena can hold), so each one is a fresh ``mmap``
whose pages the kernel zero-fills on first touch, and ``munmap``-ed when freed. Profiled on the
demo (``python train.py --arch cnn_lstm``) with TensorFlow's own Eigen kernels, which it uses on
CPUs where it leaves oneDNN off (no AVX-512 VNNI/BF16 or AMX): about 270,000 minor page faults a
step, a third of the CPU time in the kernel, 56 million faults a run; oneDNN kernels hit it less.
The glibc tunables only half cure it: one arena (lock contention on many cores) and a fixed mmap
threshold would be needed together, and they must be set before the process starts.

``TF_CPU_ALLOCATOR_USE_BFC=true`` makes TensorFlow keep freed CPU memory in its own best-fit pool
and reuse it the next step: the faults stop after the first step and the system time drops by
four fifths, for 2-17 % more peak RSS (``benchmarks/bench_train_memory.py``); the results are the
same numbers (allocation addresses change, no kernel does). TensorFlow reads the
variable once, when it creates its CPU device (the first op), so ``train.py``
(``ser_tf.training.cli``) calls :func:`use_pooling_allocator` before it imports TensorFlow; the
other entry points keep malloc (one clip or window at a time, or one forward pass over a corpus:
no step repeated hundreds of times). A value the user exported wins (``TF_CPU_ALLOCATOR_USE_BFC=false`` restores malloc; the
memory benchmark runs its baseline so).
"""

from __future__ import annotations

import os
import sys

ENV = "TF_CPU_ALLOCATOR_USE_BFC"

_in_effect = None  # what the first call of use_pooling_allocator found


def use_pooling_allocator() -> bool:
    """Ask TensorFlow for its BFC allocator on CPU unless the user chose (``TF_CPU_ALLOCATOR_USE_BFC``
    set, to anything). Returns whether the pool is asked for: ``False`` when the user's value says
    no, or when TensorFlow was imported before the first call (it may already have created its CPU
    device, so the variable is left alone). Only the first call decides; it never imports
    TensorFlow."""
    global _in_effect
    if _in_effect is None:
        if "tensorflow" not in sys.modules:
            os.environ.setdefault(ENV, "true")
        _in_effect = os.environ.get(ENV, "").strip().lower() in ("1", "true")
    return _in_effect
