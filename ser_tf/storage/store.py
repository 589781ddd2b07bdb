"""The app's database: recordings with their timelines and alerts, alert rules, trends.

``Store(url)`` opens SQLite or PostgreSQL through SQLAlchemy Core and migrates the schema; every
method opens its own short transaction, so one ``Store`` serves a threaded web server. The dict
shapes are the contract's (``/work/notes/app-contract.md``); see ``records.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Dict, List, Optional, Tuple

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ser_tf.errors import ParameterError, StorageError
from ser_tf.storage import migrations, records, trends, values
from ser_tf.storage.engine import make_engine
from ser_tf.storage.schema import SOURCES, models, recordings, rules, windows
# Renamed: add_recording's arguments are called alerts and audio, as in the contract.
from ser_tf.storage.schema import alerts as alert_table, audio as audio_table
from ser_tf.storage.urls import normalize_url


class Store:
    """The app's database at ``url``, created and migrated to the current schema on opening.

    Args:
        url: ``sqlite:///path/to/file.sqlite3`` (see ``default_url``) or
            ``postgresql://user@host:port/dbname`` (psycopg 3 is used; no need to name it).

    Attributes:
        url: the URL as opened, password masked (for display and logs).
        dialect: ``"sqlite"`` or ``"postgresql"``.

    Raises:
        StorageError: the URL is unsupported, the database cannot be reached, or its schema is
            newer than this ser_tf.
    """

    def __init__(self, url: str):
        parsed = normalize_url(url)
        self.url = parsed.render_as_string(hide_password=True)
        self.dialect = parsed.get_backend_name()
        self._engine = make_engine(parsed)
        try:
            migrations.migrate(self._engine)
        except SQLAlchemyError as error:
            self._engine.dispose()
            raise StorageError(f"cannot open database {self.url}: {error}") from error
        except BaseException:
            self._engine.dispose()
            raise

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- models --------------------------------------------------------------------------------

    def ensure_model(self, *, path: str, arch: str, classes: List[str], sha256: str) -> int:
        """The id of the model with this identity, stored on first sight.

        Args:
            path: the model file as loaded (str). arch: its architecture name.
            classes: its emotion names in output order. sha256: the file's hex digest.
        """
        if not isinstance(classes, (list, tuple)) or not classes:
            raise ParameterError(f"classes={classes!r} must be a non-empty list of emotion names")
        identity = {"path": values.text(str(path), name="path"), "arch": values.text(arch, name="arch"),
                    "classes": [values.text(name, name="classes[]") for name in classes],
                    "sha256": values.text(sha256, name="sha256")}
        query = select(models.c.id).where(*(models.c[key] == value for key, value in identity.items()))
        for _ in range(2):  # a second look finds the row a concurrent caller just inserted
            with self._engine.connect() as connection:
                found = connection.execute(query).scalar_one_or_none()
            if found is not None:
                return found
            # A transaction of its own that starts with the write: on SQLite, a read-then-write
            # transaction fails at once when another writer got in between; this one waits its turn.
            try:
                with self._engine.begin() as connection:
                    return connection.execute(insert(models).values(**identity)).inserted_primary_key[0]
            except IntegrityError:
                continue
        raise StorageError(f"model {identity['path']!r} could not be stored nor found")

    # -- recordings ----------------------------------------------------------------------------

    def add_recording(self, *, recording: dict, timeline: List[dict], alerts: List[dict],
                      audio: Optional[bytes] = None, audio_type: Optional[str] = None) -> int:
        """Store a recording with its whole timeline and fired alerts in ONE transaction; its id.

        Either everything is written or nothing: a failure part-way, or the process being killed,
        leaves no trace of the recording.

        Args:
            recording: the contract's full recording shape without ``id``, ``alert_count``,
                ``has_audio``, ``model``, ``timeline`` and ``alerts`` (ignored if present):
                name, source (upload|record|stream), duration (s), label, confidence,
                probabilities and shares ({emotion: float}), silence_share, voiced_seconds (s),
                basis, window and hop (s), envelope, model_id (from ``ensure_model``), and
                optionally uploaded_at (aware datetime; default now).
            timeline: one dict per window, in order: start, end (s), label, confidence (or None),
                voiced, level_db, probabilities ({emotion: float} or None).
            alerts: fired alerts: rule_id (or None), rule (text form), emotion, kind, start and
                end (s, or None), value, optionally webhook and fired_at (default now).
            audio: the recording's bytes, stored only when given (opt-in). audio_type: their MIME
                type, e.g. ``"audio/wav"``; required with ``audio``.

        Raises:
            ParameterError: a value is missing or out of range (nothing written).
            StorageError: the database refused the rows (nothing written).
        """
        row = records.recording_row(recording)
        if audio is not None and not isinstance(audio, (bytes, bytearray, memoryview)):
            raise ParameterError(f"audio must be bytes, got {type(audio).__name__}: {audio!r:.100}")
        if audio is not None and not (isinstance(audio_type, str) and audio_type):
            raise ParameterError(f"audio_type={audio_type!r}: stored audio needs its MIME type, e.g. 'audio/wav'")
        # Check every row before the transaction opens.
        window_rows = records.window_rows(timeline)
        alert_rows = records.alert_rows(alerts)
        try:
            with self._engine.begin() as connection:
                recording_id = connection.execute(insert(recordings).values(**row)).inserted_primary_key[0]
                _insert_windows(connection, recording_id, window_rows)
                _insert_alerts(connection, recording_id, alert_rows)
                if audio is not None:
                    connection.execute(insert(audio_table).values(
                        recording_id=recording_id, data=bytes(audio), mime_type=audio_type))
        except SQLAlchemyError as error:
            raise StorageError(f"recording {row['name']!r} was not stored (nothing was written): "
                               f"{getattr(error, 'orig', None) or error}") from error
        return recording_id

    def get_recording(self, recording_id: int) -> Optional[Dict]:
        """The full recording dict (timeline, alerts, model, envelope), or None if there is none."""
        with self._engine.connect() as connection:
            row = connection.execute(_summary_query().add_columns(
                recordings.c.probabilities, recordings.c.basis, recordings.c.window, recordings.c.hop,
                recordings.c.envelope).where(recordings.c.id == recording_id)).first()
            if row is None:
                return None
            result = records.summary(row)
            result.update({key: row._mapping[key] for key in ("probabilities", "basis", "window", "hop",
                                                               "envelope")})
            model = connection.execute(select(models).where(models.c.id == row.model_id)).one()
            result["model"] = dict(model._mapping)
            result["timeline"] = [records.window(window) for window in connection.execute(
                select(windows).where(windows.c.recording_id == recording_id).order_by(windows.c.position))]
            result["alerts"] = [records.alert(alert) for alert in connection.execute(
                _alerts_query().where(alert_table.c.recording_id == recording_id)
                .order_by(alert_table.c.fired_at, alert_table.c.id))]
        return result

    def list_recordings(self, *, since: Optional[datetime] = None, until: Optional[datetime] = None,
                        label: Optional[str] = None, source: Optional[str] = None, limit: int = 200,
                        offset: int = 0) -> List[Dict]:
        """Summary dicts of the recordings that pass the filters, newest first.

        Args:
            since: uploaded at or after (aware datetime). until: uploaded before (aware datetime).
            label: overall label equal to this. source: upload|record|stream.
            limit: at most this many (>= 0). offset: skip this many first (>= 0).
        """
        query = (_summary_query().where(*recording_filters(since=since, until=until, label=label, source=source))
                 .order_by(recordings.c.uploaded_at.desc(), recordings.c.id.desc())
                 .limit(values.count(limit, name="limit")).offset(values.count(offset, name="offset")))
        with self._engine.connect() as connection:
            return [records.summary(row) for row in connection.execute(query)]

    def count_recordings(self, *, since: Optional[datetime] = None, until: Optional[datetime] = None,
                         label: Optional[str] = None, source: Optional[str] = None) -> int:
        """How many recordings pass the filters of ``list_recordings``."""
        query = select(func.count()).select_from(recordings).where(
            *recording_filters(since=since, until=until, label=label, source=source))
        with self._engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def delete_recording(self, recording_id: int) -> bool:
        """Delete a recording with its windows, alerts and audio; False if there was none."""
        with self._engine.begin() as connection:
            # Explicit deletes rather than ON DELETE CASCADE alone: a SQLite connection opened
            # elsewhere without "PRAGMA foreign_keys" must not leave orphans either.
            for table in (windows, alert_table, audio_table):
                connection.execute(delete(table).where(table.c.recording_id == recording_id))
            return connection.execute(delete(recordings).where(recordings.c.id == recording_id)).rowcount > 0

    def get_audio(self, recording_id: int) -> Optional[Tuple[bytes, str]]:
        """``(bytes, mime_type)`` of a recording's stored audio, or None if none was stored."""
        with self._engine.connect() as connection:
            row = connection.execute(select(audio_table.c.data, audio_table.c.mime_type)
                                     .where(audio_table.c.recording_id == recording_id)).first()
        return None if row is None else (bytes(row.data), row.mime_type)

    def trend(self, *, period: str = "day", since: Optional[datetime] = None,
              until: Optional[datetime] = None, source: Optional[str] = None) -> List[Dict]:
        """Shares per day or ISO week (Monday start), weighted by voiced seconds; oldest first.

        Only periods with recordings appear. See ``trends.aggregate`` for the row shape.
        """
        values.choice(period, trends.PERIODS, name="period")
        query = (select(recordings.c.uploaded_at, recordings.c.voiced_seconds, recordings.c.shares)
                 .where(*recording_filters(since=since, until=until, source=source))
                 .order_by(recordings.c.uploaded_at, recordings.c.id))
        with self._engine.connect() as connection:
            return trends.aggregate(connection.execute(query), period=period)

    # -- rules and alerts ----------------------------------------------------------------------

    def add_rule(self, rule: dict) -> Dict:
        """Store an alert rule; returns it with ``id`` and ``created_at``.

        Args:
            rule: name, kind (sustained|share), emotion, threshold in (0, 1], min_seconds (s, >= 0;
                default 0, and 0 for share rules), webhook_url (http(s) URL or None; default None),
                enabled (default True).
        """
        row = records.rule_row(rule)
        with self._engine.begin() as connection:
            rule_id = connection.execute(insert(rules).values(**row)).inserted_primary_key[0]
            return records.rule(connection.execute(select(rules).where(rules.c.id == rule_id)).one())

    def list_rules(self, *, enabled_only: bool = False) -> List[Dict]:
        """Every rule (or the enabled ones), oldest first."""
        query = select(rules).order_by(rules.c.id)
        if enabled_only:
            query = query.where(rules.c.enabled.is_(True))
        with self._engine.connect() as connection:
            return [records.rule(row) for row in connection.execute(query)]

    def delete_rule(self, rule_id: int) -> bool:
        """Delete a rule; its fired alerts stay, with ``rule_id`` None and their frozen text."""
        with self._engine.begin() as connection:
            connection.execute(update(alert_table).where(alert_table.c.rule_id == rule_id).values(rule_id=None))
            return connection.execute(delete(rules).where(rules.c.id == rule_id)).rowcount > 0

    def list_alerts(self, *, since: Optional[datetime] = None, until: Optional[datetime] = None,
                    recording_id: Optional[int] = None, limit: int = 200) -> List[Dict]:
        """Fired alerts, newest first: fired at or after ``since``, before ``until`` (aware datetimes)."""
        query = _alerts_query()
        if since is not None:
            query = query.where(alert_table.c.fired_at >= values.to_utc(since, name="since"))
        if until is not None:
            query = query.where(alert_table.c.fired_at < values.to_utc(until, name="until"))
        if recording_id is not None:
            query = query.where(alert_table.c.recording_id == recording_id)
        query = query.order_by(alert_table.c.fired_at.desc(), alert_table.c.id.desc()).limit(
            values.count(limit, name="limit"))
        with self._engine.connect() as connection:
            return [records.alert(row) for row in connection.execute(query)]

    def set_webhook_status(self, alert_id: int, status: str) -> None:
        """Record how an alert's webhook went (e.g. ``"sent: HTTP 200"``, ``"failed: timeout"``).

        An alert deleted meanwhile (its recording was deleted while the webhook was in flight) is
        silently skipped: there is nothing left to annotate.
        """
        status = values.text(status, name="status")
        with self._engine.begin() as connection:
            connection.execute(update(alert_table).where(alert_table.c.id == alert_id).values(webhook=status))


def _insert_windows(connection, recording_id: int, rows: List[dict]) -> None:
    if rows:
        connection.execute(insert(windows), [{**row, "recording_id": recording_id} for row in rows])


def _insert_alerts(connection, recording_id: int, rows: List[dict]) -> None:
    if rows:
        connection.execute(insert(alert_table), [{**row, "recording_id": recording_id} for row in rows])


def _summary_query():
    """SELECT of the summary columns, with alert_count and has_audio computed per recording."""
    alert_count = (select(func.count()).select_from(alert_table).where(alert_table.c.recording_id == recordings.c.id)
                   .scalar_subquery())
    has_audio = exists().where(audio_table.c.recording_id == recordings.c.id)
    return select(*(recordings.c[key] for key in records.SUMMARY_KEYS if key in recordings.c),
                  alert_count.label("alert_count"), has_audio.label("has_audio"))


def _alerts_query():
    """SELECT of fired alerts joined with their recording's name."""
    return select(alert_table, recordings.c.name.label("recording_name")).join(
        recordings, recordings.c.id == alert_table.c.recording_id)


def recording_filters(*, since=None, until=None, label=None, source=None) -> list:
    """WHERE clauses for the recording filters (see ``Store.list_recordings``)."""
    clauses = []
    if since is not None:
        clauses.append(recordings.c.uploaded_at >= values.to_utc(since, name="since"))
    if until is not None:
        clauses.append(recordings.c.uploaded_at < values.to_utc(until, name="until"))
    if label is not None:
        clauses.append(recordings.c.label == values.text(label, name="label"))
    if source is not None:
        clauses.append(recordings.c.source == values.choice(source, SOURCES, name="source"))
    return clauses
