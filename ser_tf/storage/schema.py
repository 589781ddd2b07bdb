"""The app's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Conventions, the same in every table:
    * times are naive ``DateTime`` columns holding UTC (timezone-aware columns differ between
      the two databases; the store converts at its edge, see ``store.to_utc``);
    * durations and offsets are ``Double`` seconds;
    * mappings and lists (probabilities, shares, classes, the envelope) are JSON text
      (``JsonText``), so both databases store and return exactly the same strings.

This is the schema at ``migrations.LATEST``; ``migrations.py`` creates and upgrades it.
"""

from __future__ import annotations

import json

from sqlalchemy import (Boolean, CheckConstraint, Column, DateTime, Double, ForeignKey, Integer,
                        LargeBinary, MetaData, String, Table, Text, UniqueConstraint)
from sqlalchemy.types import TypeDecorator

SOURCES = ("upload", "record", "stream")
RULE_KINDS = ("sustained", "share")


class JsonText(TypeDecorator):
    """A JSON value stored as text: ``dict``/``list`` in Python, the same string in both databases."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, sort_keys=True, allow_nan=False)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


def _in(column: str, values) -> str:
    """SQL ``column IN ('a', 'b')`` for a CHECK constraint."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


metadata = MetaData()

# One row per applied migration step; the database's version is the largest.
schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
)

# The model that analysed a recording; recordings reference it, so a model is stored once.
models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("arch", String(100), nullable=False),
    Column("classes", JsonText, nullable=False),  # [emotion, ...] in the model's output order
    Column("sha256", String(64), nullable=False),
    UniqueConstraint("path", "arch", "classes", "sha256", name="uq_models_identity"),
)

recordings = Table(
    "recordings", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),  # display name only, never a path
    Column("source", String(16), nullable=False),
    Column("uploaded_at", DateTime, nullable=False, index=True),  # UTC
    Column("duration", Double, nullable=False),  # s
    Column("label", String(100), nullable=False, index=True),
    Column("confidence", Double, nullable=False),
    Column("probabilities", JsonText, nullable=False),  # {emotion: p}, the overall result
    Column("shares", JsonText, nullable=False),  # {emotion: share of voiced time}
    Column("silence_share", Double, nullable=False),
    Column("voiced_seconds", Double, nullable=False),  # s
    Column("basis", Text, nullable=False),
    Column("window", Double, nullable=False),  # s
    Column("hop", Double, nullable=False),  # s
    Column("envelope", JsonText, nullable=False),  # {"mins": [...], "maxs": [...], "duration": s}
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False),
    CheckConstraint(_in("source", SOURCES), name="ck_recordings_source"),
)

# The per-window timeline, one row per analysis window.
windows = Table(
    "windows", metadata,
    Column("id", Integer, primary_key=True),
    Column("recording_id", Integer, ForeignKey("recordings.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("position", Integer, nullable=False),  # 0-based order within the recording
    Column("start", Double, nullable=False),  # s from the recording's start
    Column("end", Double, nullable=False),  # s
    Column("label", String(100), nullable=False),  # an emotion, or "silence"
    Column("confidence", Double, nullable=True),
    Column("voiced", Boolean, nullable=False),
    Column("level_db", Double, nullable=False),
    Column("probabilities", JsonText, nullable=True),  # None for silent windows
    UniqueConstraint("recording_id", "position", name="uq_windows_position"),
)

# The audio itself, only when the caller opted in; apart so listing recordings never reads it.
audio = Table(
    "audio", metadata,
    Column("recording_id", Integer, ForeignKey("recordings.id", ondelete="CASCADE"),
           primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
    Column("mime_type", String(100), nullable=False),
)

rules = Table(
    "rules", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("emotion", String(100), nullable=False),
    Column("threshold", Double, nullable=False),  # in (0, 1]
    Column("min_seconds", Double, nullable=False),  # s; 0 for share rules
    Column("webhook_url", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),  # UTC
    CheckConstraint(_in("kind", RULE_KINDS), name="ck_rules_kind"),
    CheckConstraint("threshold > 0 AND threshold <= 1", name="ck_rules_threshold"),
    CheckConstraint("min_seconds >= 0", name="ck_rules_min_seconds"),
)

# Fired alerts keep the rule's text as it was when they fired, so deleting or editing a rule
# never rewrites history; rule_id becomes NULL when the rule is deleted.
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("recording_id", Integer, ForeignKey("recordings.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("rule_id", Integer, ForeignKey("rules.id", ondelete="SET NULL"), nullable=True),
    Column("rule", Text, nullable=False),
    Column("emotion", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("start", Double, nullable=True),  # s; None for share rules
    Column("end", Double, nullable=True),  # s
    Column("value", Double, nullable=False),
    Column("fired_at", DateTime, nullable=False, index=True),  # UTC
    Column("webhook", Text, nullable=True),
)

# The tables of schema version 1, parents first.
VERSION_1_TABLES = (models, recordings, windows, audio, rules, alerts)
