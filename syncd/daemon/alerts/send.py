"""Sending one alert to one receiver with apprise: delivered, or the reason it was not (redacted; apprise's own
log lines are collected for it, never passed on: they can quote a URL in full)."""

from __future__ import annotations

from syncd.daemon.alerts.conditions import Alert
from syncd.logging import redact_text
from syncd.settings.alert_urls import AlertUrl, apprise_call

STARTED, CLEARED, DIGEST, TEST = "started", "cleared", "digest", "test"


def send(receiver: AlertUrl, alert: Alert, change: str) -> str | None:
    """Send ``alert`` to ``receiver``: None when it was delivered, else why not."""
    import apprise

    kinds = {STARTED: apprise.NotifyType.FAILURE, CLEARED: apprise.NotifyType.SUCCESS,
             DIGEST: apprise.NotifyType.WARNING, TEST: apprise.NotifyType.INFO}
    with apprise_call() as messages:
        plugin = apprise.Apprise.instantiate(receiver.url)
        if plugin is None:
            return "apprise does not understand this URL"
        try:
            delivered = plugin.notify(body=alert.body, title=alert.title, notify_type=kinds[change])
        except Exception as e:      # a plugin that raises must not keep the other receivers from their alerts
            return redact_text(" ".join(f"{type(e).__name__}: {e}".split()))
    if delivered:
        return None
    return redact_text(" ".join("; ".join(messages).split()) or "apprise reported a failure and no reason")
