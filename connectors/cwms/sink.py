"""The CWMS writer: the :class:`connectors.base.Sink` that sets accounts' ``active`` state, one request at a time.

Each item is any object with ``.webex_id`` and ``.target`` (ACTIVATED or DEACTIVATED). The account is read first
(GetUser): an unknown account is refused (030001) and one already in the target state is left alone, so an item
sent twice, or sent before a crash and not marked, writes CWMS once (reference section 11.4). Then ``SetUser``
with only ``webExId`` and ``active``; never ``DelUser``, which deletes on CWMS 2.8+.

How a :class:`CwmsError` (raised after the client's own retries) becomes a result:

- temporary (HTTP 5xx, timeouts, dropped connections, an HTML page, a cut-off answer, 000035, 000045): "retry";
  the account may or may not have been written, and the next attempt reads it again;
- a FAILURE about the request (000000 "invalid request", or a code the read does not expect): "failed", with
  CWMS's exceptionID and reason;
- everything else refuses the whole conversation, so the item and every later one come back ``stop``: wrong
  credentials (030002), missing privileges (000001), TLS, an unreachable or refusing host (HTTP 4xx), and an
  answer that cannot be trusted (a DTD or entities in it, kind "unsafe": a SetUser's effect is then unknown, so
  its item is kept for a later attempt rather than called failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import ALREADY, DONE, FAILED, RETRY, PushResult
from connectors.transport import one_line

from .client import BAD_CREDENTIALS, USER_NOT_FOUND, CwmsClient, CwmsError

ACCESS_DENIED = "000001"
UNKNOWN_USER_REASON = "user unknown"


class CwmsSink:
    """Writes accounts' ``active`` state to the site of ``client`` (which it closes on :meth:`close`)."""

    name = "cwms"

    def __init__(self, client: CwmsClient) -> None:
        self.client = client
        self.site = client.opts.site

    def close(self) -> None:
        self.client.close()

    def push(self, items: Sequence[Any]) -> list[PushResult]:
        return self._each(items, write=True)

    def preview(self, items: Sequence[Any]) -> list[PushResult]:
        """What :meth:`push` would do: GetUser only ("done" here means "would be written")."""
        return self._each(items, write=False)

    def _each(self, items: Sequence[Any], *, write: bool) -> list[PushResult]:
        out: list[PushResult] = []
        stopped: str | None = None
        for item in items:
            if stopped is not None:
                out.append(PushResult(item.webex_id, False, f"not sent: {stopped}", RETRY, stop=True))
                continue
            result = self._one(item.webex_id, item.target, write)
            if result.stop:
                stopped = result.error
            out.append(result)
        return out

    def _one(self, webex_id: str, target: str, write: bool) -> PushResult:
        try:
            account = self.client.get_user(webex_id)
        except CwmsError as e:
            return self._error(webex_id, e, None)
        if account is None:
            return PushResult(webex_id, False, f"{webex_id}: {USER_NOT_FOUND} {UNKNOWN_USER_REASON}", FAILED,
                              USER_NOT_FOUND, UNKNOWN_USER_REASON)
        before = account.active
        if before == target:
            return PushResult(webex_id, True, None, ALREADY, before=before)
        if not write:
            return PushResult(webex_id, True, None, DONE, before=before)
        try:
            answer = self.client.set_active(webex_id, target)
        except CwmsError as e:
            return self._error(webex_id, e, before)
        if answer.ok:
            return PushResult(webex_id, True, None, DONE, before=before)
        said = f"{answer.exception_id or '(no exceptionID)'} {one_line(answer.reason or 'no reason given', 160)}"
        return PushResult(webex_id, False, f"{webex_id}: {said}", FAILED, answer.exception_id, answer.reason,
                          before=before)

    def _error(self, webex_id: str, e: CwmsError, before: str | None) -> PushResult:
        text = one_line(e, 240)
        if e.temporary:
            return PushResult(webex_id, False, f"{self.site}: {text}", RETRY, e.exception_id, e.reason, before)
        if e.kind == "failure" and e.exception_id not in (BAD_CREDENTIALS, ACCESS_DENIED):
            return PushResult(webex_id, False, f"{webex_id}: {text}", FAILED, e.exception_id, e.reason, before)
        return PushResult(webex_id, False, f"{self.site}: {text}", RETRY, e.exception_id, e.reason, before,
                          stop=True)
