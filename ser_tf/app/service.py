"""What the server holds for its lifetime, and the one path every recording takes into the store.

Uploads, in-browser recordings and live streams all end in ``Service.keep``: check the alert rules,
commit the recording with its timeline and alerts in one transaction, then POST fired alerts to
their webhooks in the background (a slow receiver never delays the answer).
"""

from __future__ import annotations

import concurrent.futures
import logging
from typing import List, Optional

from ser_tf.app.alerts import evaluate, post_webhook
from ser_tf.app.analysis import Analysis, Analyzer
from ser_tf.app.settings import AppSettings

log = logging.getLogger("ser_tf.app")


class Service:
    """The loaded model, the store and the settings, shared by every request.

    Args:
        settings: the server's settings.
        analyzer: the model, loaded once.
        store: a ``ser_tf.storage.Store``.
    """

    def __init__(self, *, settings: AppSettings, analyzer: Analyzer, store):
        import anyio

        self.settings = settings
        self.analyzer = analyzer
        self.store = store
        # Recordings classified at once; the rest wait, so a burst of uploads cannot exhaust memory.
        self.limiter = anyio.CapacityLimiter(settings.concurrency)
        self._webhooks = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook")
        self._pending: List[concurrent.futures.Future] = []
        self._model_id: Optional[int] = None

    @property
    def model_id(self) -> int:
        if self._model_id is None:
            self._model_id = self.store.ensure_model(**self.analyzer.identity)
        return self._model_id

    def info(self) -> dict:
        """What the page needs to know about the server: the model, the limits, the token rule."""
        model = self.analyzer.model
        return {
            "model": {"path": str(model.path), "arch": model.arch, "classes": self.analyzer.classes,
                      "window": model.window, "sample_rate": model.sample_rate,
                      "demo": bool(model.choice.warning), "reason": model.choice.reason},
            "colours": self.analyzer.colours,
            "hop": self.analyzer.hop,
            "limits": {"max_upload_bytes": self.settings.max_upload_bytes,
                       "max_duration_s": self.settings.max_duration_s},
            "token_required": bool(self.settings.token),
            "database": self.store.dialect,
        }

    def keep(self, analysis: Analysis, *, audio: Optional[bytes] = None,
             audio_type: Optional[str] = None) -> dict:
        """Check the rules, store the recording (one transaction), send webhooks; returns the
        stored recording (``Store.get_recording``'s shape). Runs in a worker thread."""
        rules = self.store.list_rules(enabled_only=True)
        alerts = evaluate(rules, timeline=analysis.timeline, shares=analysis.recording["shares"])
        recording_id = self.store.add_recording(
            recording={**analysis.recording, "model_id": self.model_id}, timeline=analysis.timeline,
            alerts=alerts, audio=audio, audio_type=audio_type)
        stored = self.store.get_recording(recording_id)
        urls = {r["id"]: r.get("webhook_url") for r in rules}
        for alert in stored["alerts"]:
            url = urls.get(alert["rule_id"])
            if url:
                self._pending = [f for f in self._pending if not f.done()]
                self._pending.append(self._webhooks.submit(self._send, url, alert, stored))
        return stored

    def _send(self, url: str, alert: dict, recording: dict) -> None:
        summary = {k: recording[k] for k in ("id", "name", "source", "uploaded_at", "duration", "label",
                                              "confidence", "shares")}
        status = post_webhook(url, {"event": "ser_tf.alert", "alert": alert, "recording": summary})
        if status.startswith("failed"):
            log.warning("webhook %s for alert %s %s", url, alert["id"], status)
        self.store.set_webhook_status(alert["id"], status)

    def wait_for_webhooks(self, timeout: float = 30.0) -> None:
        """Block until every webhook queued so far has been sent or has failed (shutdown, tests)."""
        pending, self._pending = self._pending, []
        concurrent.futures.wait(pending, timeout=timeout)

    def close(self) -> None:
        self._webhooks.shutdown(wait=True)
        self.store.close()
