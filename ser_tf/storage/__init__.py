"""The app's database (issue 11): recordings, their timelines and alerts, alert rules, trends.

SQLAlchemy Core on SQLite (the default, ``default_url``) or PostgreSQL (``postgresql://...``),
with a versioned schema migrated on opening. See ``Store``.
"""

from ser_tf.storage.store import Store
from ser_tf.storage.urls import app_default_url, default_url

__all__ = ["Store", "app_default_url", "default_url"]
