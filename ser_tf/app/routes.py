"""The ``/api`` routes (see ``ser_tf.app.server`` for the list). Each handler checks its input,
runs the blocking work (model, database, reports) in a worker thread, and answers JSON."""

# No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations at run
# time, and they name classes imported inside the functions that define the handlers.

import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from ser_tf.app import uploads
from ser_tf.app.alerts import validate_rule
from ser_tf.app.service import Service
from ser_tf.errors import AudioError, ParameterError

log = logging.getLogger("ser_tf.app")

# MIME types of the formats libsndfile names, for audio kept in the database.
_MIME = {"WAV": "audio/wav", "WAVEX": "audio/wav", "FLAC": "audio/flac", "OGG": "audio/ogg",
         "MP3": "audio/mpeg", "AIFF": "audio/aiff"}
# Seconds a built report is reused for the requests of its page (the HTML, then each chart).
REPORT_TTL_S = 30.0
REPORT_TYPES = {".html": "text/html; charset=utf-8", ".png": "image/png", ".csv": "text/csv; charset=utf-8"}


def parse_when(value: Optional[str], *, field: str) -> Optional[dt.datetime]:
    """``YYYY-MM-DD`` or an ISO-8601 time (UTC unless it says otherwise) as an aware datetime."""
    if value in (None, ""):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(f"{field} must be a date (2026-11-30) or an ISO time "
                             f"(2026-11-30T14:00:00Z), got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _classify_upload(service: Service, upload, *, name: str, source: str, store_audio: bool) -> dict:
    """Copy the upload to the server's own temporary file, check it, analyse it, keep it."""
    fd, path = tempfile.mkstemp(prefix="ser_tf_upload_", suffix=".audio")
    try:
        with os.fdopen(fd, "wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, length=1 << 20)
        info = uploads.check_audio(path, name=name, max_duration_s=service.settings.max_duration_s)
        try:
            analysis = service.analyzer.analyse(path, name=name, source=source)
        except AudioError as err:  # readable but unusable: too short, digital silence
            raise uploads.UploadRefused(422, f"{name}: {err.reason}") from None
        audio = Path(path).read_bytes() if store_audio else None
        return service.keep(analysis, audio=audio, audio_type=_MIME.get(info.format, "application/octet-stream"))
    finally:
        os.unlink(path)


def build_router(service: Service):
    from anyio import to_thread
    from fastapi import APIRouter, File, Form, HTTPException, UploadFile
    from fastapi.responses import JSONResponse, Response

    router = APIRouter()
    store = service.store

    async def in_thread(fn, *args, limited: bool = False, **kwargs):
        limiter = service.limiter if limited else None
        return await to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=limiter)

    def not_found(what: str, value) -> HTTPException:
        return HTTPException(status_code=404, detail=f"no {what} {value!r}")

    @router.get("/info")
    async def info():
        return service.info()

    @router.post("/recordings", status_code=201)
    async def upload(files: List[UploadFile] = File(...), source: str = Form("upload"),
                     store_audio: bool = Form(False)):
        if source not in ("upload", "record"):
            raise ParameterError(f"source must be 'upload' or 'record' for files, got {source!r}")
        kept, refused = [], []
        for item in files:
            try:
                name = uploads.display_name(item.filename)
                kept.append(await in_thread(_classify_upload, service, item, name=name, source=source,
                                            store_audio=store_audio, limited=True))
            except uploads.UploadRefused as err:
                log.warning("refused upload %r: %s", item.filename, err)
                refused.append({"name": item.filename, "status": err.status, "error": str(err)})
            finally:
                await item.close()
        if not kept:  # nothing classified: the refusal is the answer
            statuses = {r["status"] for r in refused}
            status = statuses.pop() if len(statuses) == 1 else 400
            detail = refused[0]["error"] if len(refused) == 1 else f"all {len(refused)} files were refused"
            return JSONResponse({"detail": detail, "refused": refused}, status_code=status)
        return JSONResponse({"recordings": kept, "refused": refused}, status_code=201)

    @router.get("/recordings")
    async def list_recordings(since: Optional[str] = None, until: Optional[str] = None,
                              label: Optional[str] = None, source: Optional[str] = None,
                              limit: int = 100, offset: int = 0):
        filters = dict(since=parse_when(since, field="since"), until=parse_when(until, field="until"),
                       label=label or None, source=source or None)
        rows = await in_thread(store.list_recordings, **filters, limit=limit, offset=offset)
        total = await in_thread(store.count_recordings, **filters)
        return {"recordings": rows, "total": total, "limit": limit, "offset": offset}

    @router.get("/recordings/{recording_id}")
    async def get_recording(recording_id: int):
        recording = await in_thread(store.get_recording, recording_id)
        if recording is None:
            raise not_found("recording", recording_id)
        return recording

    @router.delete("/recordings/{recording_id}")
    async def delete_recording(recording_id: int):
        if not await in_thread(store.delete_recording, recording_id):
            raise not_found("recording", recording_id)
        return {"deleted": recording_id}

    @router.get("/recordings/{recording_id}/audio")
    async def audio(recording_id: int):
        found = await in_thread(store.get_audio, recording_id)
        if found is None:
            raise HTTPException(404, f"no audio kept for recording {recording_id!r} (upload with "
                                     f"store_audio to keep it)")
        data, media_type = found
        return Response(data, media_type=media_type)

    reports: dict = {}

    async def cached_report(key, build):
        # The page asks for index.html and then each chart: build a report once for those requests.
        now = time.monotonic()
        for old in [k for k, (made, _) in reports.items() if now - made > REPORT_TTL_S]:
            del reports[old]
        if key not in reports:
            reports[key] = (now, await in_thread(build))
        return reports[key][1]

    def report_file(report, file: str):
        if file not in report.files:
            raise not_found("report file", file)
        media_type = REPORT_TYPES.get(os.path.splitext(file)[1], "application/octet-stream")
        return Response(report.files[file], media_type=media_type)

    @router.get("/recordings/{recording_id}/report/{file}")
    async def recording_report(recording_id: int, file: str):
        recording = await in_thread(store.get_recording, recording_id)
        if recording is None:
            raise not_found("recording", recording_id)
        from ser_tf.report.recording import recording_report

        key = ("recording", recording_id, len(recording["alerts"]))
        return report_file(await cached_report(key, lambda: recording_report(recording)), file)

    @router.get("/reports/{period}/{start}/{file}")
    async def period_report(period: str, start: str, file: str):
        from ser_tf.report import gather

        day = parse_when(start, field="start").date()
        build = lambda: gather.gather_period(store, period=period, start=day)  # noqa: E731
        return report_file(await cached_report(("period", period, day), build), file)

    @router.get("/trends")
    async def trends(period: str = "day", since: Optional[str] = None, until: Optional[str] = None,
                     source: Optional[str] = None):
        rows = await in_thread(store.trend, period=period, since=parse_when(since, field="since"),
                               until=parse_when(until, field="until"), source=source or None)
        return {"period": period, "rows": rows}

    @router.get("/rules")
    async def list_rules():
        return {"rules": await in_thread(store.list_rules)}

    @router.post("/rules", status_code=201)
    async def add_rule(rule: dict):
        return await in_thread(store.add_rule, validate_rule(rule, classes=service.analyzer.classes))

    @router.delete("/rules/{rule_id}")
    async def delete_rule(rule_id: int):
        if not await in_thread(store.delete_rule, rule_id):
            raise not_found("rule", rule_id)
        return {"deleted": rule_id}

    @router.get("/alerts")
    async def alerts(since: Optional[str] = None, until: Optional[str] = None,
                     recording_id: Optional[int] = None, limit: int = 100):
        rows = await in_thread(store.list_alerts, since=parse_when(since, field="since"),
                               until=parse_when(until, field="until"), recording_id=recording_id, limit=limit)
        return {"alerts": rows}

    return router
