"""Command-line tools outside the train / predict / evaluate flow (e.g. checkpoint conversion).

Tools sit on the top floor with the other entry points: they may import any ``ser_tf`` module,
and nothing in ``ser_tf`` imports them (see ``tests/test_architecture.py``).
"""
