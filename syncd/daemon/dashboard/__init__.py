"""The read-only dashboard that `syncd run` serves at ``/`` and ``/ui/`` (DESIGN.md section 13).

Every figure on a page comes from the ``syncd.views`` function that the API's JSON comes from; this package holds
no SQL. ``routes`` are mounted by ``syncd.daemon.api``; the read token (``[api] read_token_*``) is checked by
``auth``, pages are rendered by ``pages`` with the autoescaping templates of ``render``, and the two charts are
server-drawn SVG (``svg``), so a page makes no request beyond this server.
"""
