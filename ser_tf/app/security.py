"""The API's guards: the token, the request-size limit and the page's security headers.

The token may come as ``Authorization: Bearer <token>`` (API clients), or as ``?token=`` where a
browser cannot set headers: WebSockets, and links to reports and audio opened from the page.
"""

from __future__ import annotations

import hmac
import json
from typing import Optional

# The page loads nothing from elsewhere (no CDN); inline styles are used by the reports' HTML.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                           "style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; "
                           "frame-ancestors 'none'; base-uri 'none'")


class TokenRefused(Exception):
    """A request without the right token; ``status`` is 401 (missing) or 403 (wrong)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def presented_token(headers, query_params) -> Optional[str]:
    """The token a request carries, from its ``Authorization`` header or ``?token=``."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return query_params.get("token")


def check_token(expected: Optional[str], presented: Optional[str]) -> None:
    """Raise ``TokenRefused`` unless no token is required or ``presented`` matches it.

    Compared in constant time, so response timing does not leak the token.
    """
    if not expected:
        return
    if not presented:
        raise TokenRefused(401, "this server needs its API token: send 'Authorization: Bearer <token>' "
                                "(or ?token=<token>)")
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        raise TokenRefused(403, "wrong API token")


class BodyLimit:
    """ASGI middleware: answer 413 to any request body over ``max_bytes``.

    Checks ``Content-Length`` first, then counts the bytes as they arrive (a chunked upload has no
    length), so nothing over the limit is ever spooled to disk. Past the limit the app is told the
    client left (it stops reading), and whatever it answers is replaced by the 413.
    """

    def __init__(self, app, *, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send, int(length))
        received = 0
        over = refused = False

        async def counting_receive():
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal refused
            if not over:
                return await send(message)
            if not refused:
                refused = True
                await self._refuse(send, received)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not refused:
            await self._refuse(send, received)

    async def _refuse(self, send, size: int):
        mb = self.max_bytes / (1024 * 1024)
        body = json.dumps({"detail": f"upload too large: {size} bytes or more; the limit is {self.max_bytes} "
                                     f"bytes ({mb:g} MB; --max-upload-mb)"}).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
