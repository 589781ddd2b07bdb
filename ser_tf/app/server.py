"""The FastAPI application: the page, the JSON API and the live stream.

``create_app(service)`` builds it around a ``Service`` (model loaded once, the store, settings);
``python -m ser_tf.app`` serves it with uvicorn. Every ``/api`` route needs the token when one is
set; the page itself (``/``, ``/static``) does not, since it is what asks for the token.

The routes, all JSON unless said otherwise (shapes: ``docs/app.md``):

    GET    /api/info                          the model, the limits, whether a token is needed
    POST   /api/recordings                    multipart ``files`` (one or more), ``source``, ``store_audio``
    GET    /api/recordings                    ``since``, ``until``, ``label``, ``source``, ``limit``, ``offset``
    GET    /api/recordings/{id}               one recording with its timeline and alerts
    DELETE /api/recordings/{id}
    GET    /api/recordings/{id}/audio         the audio, if it was kept
    GET    /api/recordings/{id}/report/{file} the recording's report (index.html, PNG, CSV)
    GET    /api/reports/{day|week}/{YYYY-MM-DD}/{file}   a period's report
    GET    /api/trends                        each emotion's share per ``period`` (day, week)
    GET    /api/rules, POST /api/rules, DELETE /api/rules/{id}
    GET    /api/alerts                        fired alerts, newest first
    WS     /api/stream                        live classification (``ser_tf.app.stream``)
"""

from __future__ import annotations

import logging
from pathlib import Path

from ser_tf.app import security
from ser_tf.app.service import Service
from ser_tf.app.uploads import UploadRefused
from ser_tf.errors import AudioError, ParameterError, SerError

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("ser_tf.app")


def create_app(service: Service):
    """The ASGI application (FastAPI wrapped in the request-size limit).

    Args:
        service: the model, store and settings every request shares; closed at shutdown.
    """
    import contextlib

    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    from ser_tf.app import routes, stream

    def require_token(request: Request) -> None:
        security.check_token(service.settings.token,
                             security.presented_token(request.headers, request.query_params))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    app = FastAPI(title="ser_tf", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan, dependencies=[])
    app.state.service = service
    app.include_router(routes.build_router(service), prefix="/api", dependencies=[Depends(require_token)])
    app.add_api_websocket_route("/api/stream", stream.endpoint(service))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def refusal(status: int, message: str, **extra):
        return JSONResponse({"detail": message, **extra}, status_code=status)

    @app.exception_handler(security.TokenRefused)
    async def token_refused(request, err):
        response = refusal(err.status, str(err))
        if err.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(UploadRefused)
    async def upload_refused(request, err):
        return refusal(err.status, str(err))

    @app.exception_handler(ParameterError)
    async def bad_parameter(request, err):
        return refusal(400, str(err))

    @app.exception_handler(AudioError)
    async def bad_audio(request, err):
        return refusal(422, str(err))

    @app.exception_handler(SerError)
    async def other_error(request, err):
        log.error("%s %s: %s", request.method, request.url.path, err)
        return refusal(500, str(err))

    @app.middleware("http")
    async def headers(request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", security.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    asgi = app
    if service.settings.cors_origins:  # off unless asked for: the page is served by this server
        from starlette.middleware.cors import CORSMiddleware

        asgi = CORSMiddleware(asgi, allow_origins=list(service.settings.cors_origins),
                              allow_methods=["GET", "POST", "DELETE"],
                              allow_headers=["Authorization", "Content-Type"])
    return security.BodyLimit(asgi, max_bytes=service.settings.max_upload_bytes)
