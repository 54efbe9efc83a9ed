"""CWMS as an administrator reads it: `syncd cwms diff` (a live read of every account beside the stored people)
and the rows of `syncd cwms export --deactivations` (from the store only: the route of sites whose XML API is
closed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, exists, false, select

from syncd import errors
from syncd.push.adopt import SOURCE
from syncd.push.drift import DEACTIVATE, PlannedPush, drift
from syncd.push.export import Deactivation, split_name
from syncd.push.read import read_site
from syncd.runtime import Runtime
from syncd.store import tables


def _push(p: PlannedPush) -> dict[str, str]:
    return {"email": p.email, "webex_id": p.webex_id, "action": p.action, "sentence": p.sentence}


def diff(rt: Runtime) -> dict[str, Any]:
    """Leaks, blocked people and accounts matching nobody, now. A read that fails or stops short is an error
    (exit 69): a partial list of accounts is never shown as the site's drift."""
    read = read_site(rt.cwms_client())
    if not read.complete:
        raise errors.UserError(read.error or "the CWMS read failed", errors.SOURCE_UNAVAILABLE)
    p = tables.people
    with rt.engine.connect() as conn:
        active = {email: on and not gone for email, on, gone in
                  conn.execution_options(yield_per=20_000).execute(select(p.c.email, p.c.active, p.c.deleted))}
    d = drift(active, read.accounts)
    return {"site": read.site, "read": read.accounts.read, "no_email": d.no_email,
            "leaks": [_push(x) for x in d.leaks], "blocked": [_push(x) for x in d.blocked],
            "cwms_only": d.cwms_only, "cwms_only_listed": d.cwms_only_listed}


def deactivations(rt: Runtime) -> Iterator[Deactivation]:
    """Every inactive person, by e-mail, except those whose account CWMS is known to hold deactivated: adopted so
    by `syncd cwms import`, or deactivated by a push that CWMS confirmed. Once accounts were adopted, only people
    with an adopted account are listed: a row for an address CWMS does not know could create a user there.

    The names are the adopted account's own where `cwms import` stored them (CWMS's import writes FIRSTNAME and
    LASTNAME too, so a row named from CUCM would rename the account), else the CUCM display name's."""
    p, sr, o = tables.people, tables.source_records, tables.outbox
    known_off = exists().where(and_(sr.c.source == SOURCE, sr.c.email_key == p.c.email, sr.c.active == false()))
    pushed_off = exists().where(and_(o.c.email == p.c.email, o.c.action == DEACTIVATE, o.c.state == "done"))
    acc = sr.alias("account")     # its own name: the subqueries above stay correlated to the person only
    adopted = and_(acc.c.source == SOURCE, acc.c.email_key == p.c.email)
    stmt = (select(p.c.email, p.c.display_name, acc.c.data).select_from(p.outerjoin(acc, adopted))
            .where(p.c.active == false(), ~known_off, ~pushed_off).order_by(p.c.email))
    previous = None
    with rt.engine.connect() as conn:
        if conn.execute(select(sr.c.source_key).where(sr.c.source == SOURCE).limit(1)).first() is not None:
            stmt = stmt.where(acc.c.source_key.is_not(None))
        for email, name, data in conn.execution_options(yield_per=20_000).execute(stmt):
            if email == previous:       # two adopted accounts with one e-mail key: one row (CWMS matches by EMAIL)
                continue
            previous = email
            account = data or {}
            if account.get("first_name") and account.get("last_name"):
                yield Deactivation(email, account["first_name"], account["last_name"])
            else:
                yield Deactivation(email, *split_name(name, email))
