"""The read side: JSON-ready dicts and lists for every read command and API route (DESIGN.md sections 9, 9a, 13).

The CLI's text and ``--json``, the HTTP API and the dashboard all render these, so one number has one source.
No function here formats text; field names are the ``--json`` contract.
"""
