"""The local web page: ``python -m ser_tf.app``.

Upload, record or stream audio in the browser, see each recording's emotion timeline, browse the
history and its trends, set alert rules (kept in the database, optionally POSTed to a webhook) and
open reports. Built on the Python API (``ser_tf.load_model``) and ``ser_tf.storage``.

- ``settings``: flags and the token rule; ``security``: token, size limit, headers;
- ``analysis``: a recording -> timeline, shares, envelope; ``alerts``: rules and webhooks;
- ``service``: what the server holds, and the one path into the store;
- ``server``, ``routes``, ``stream``: the FastAPI app, its JSON API and the live WebSocket;
- ``static/``: the page (plain HTML, CSS and JavaScript; no build step, nothing from a CDN).
"""
