"""``syncd cwms import``: adopt the CWMS accounts' active states as facts (DESIGN.md 12).

The accounts are stored as the records of source ``cwms`` (``source_records``, replacing the previous snapshot in
one transaction): `users show` lists each person's account, and `cwms export` knows which accounts CWMS already
holds deactivated. They make nobody active or inactive and assign no license (the XML API does not expose
holdings: `licenses import` adopts those).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connectors.cwms.client import CwmsError
from connectors.cwms.records import CwmsAccount
from connectors.emails import email_key
from connectors.transport import one_line
from syncd import errors, journal
from syncd.runtime import Runtime
from syncd.settings.sources import RESERVED
from syncd.store import bulk, tables
from syncd.store.db import begin_write

SOURCE = RESERVED
"""The source name of the adopted accounts; no configured source may take it."""


@dataclass(slots=True)
class Adopted:
    accounts: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"accounts": self.accounts, "added": self.added, "changed": self.changed, "removed": self.removed,
                "unchanged": self.unchanged}


def _row(a: CwmsAccount, run_id: str, now: datetime) -> dict[str, Any]:
    # CWMS's own `active` value is kept as "state": a record's "active" is the boolean every source's record has
    # (`users show`), and the data's fields are listed beside it
    data = {"webex_id": a.webex_id, "email": a.email, "state": a.active, "first_name": a.first_name,
            "last_name": a.last_name}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return {"source": SOURCE, "source_key": a.webex_id, "email_key": email_key(a.email), "person_id": None,
            "active": a.activated, "data": data, "digest": digest, "seen_at": now, "run_id": run_id}


def adopt(conn: Connection, accounts: Iterable[CwmsAccount], run_id: str, actor: str, now: datetime, *,
          dry_run: bool = False) -> Adopted:
    """Store every account (a complete read: the caller read the whole site), in the caller's transaction; with
    ``dry_run`` only count what would change."""
    t = tables.source_records
    stored = {key: digest for key, digest in
              conn.execute(select(t.c.source_key, t.c.digest).where(t.c.source == SOURCE))}
    out, rows, seen = Adopted(), [], set()
    for a in accounts:
        row = _row(a, run_id, now)
        seen.add(a.webex_id)
        out.accounts += 1
        old = stored.get(a.webex_id)
        if old == row["digest"]:
            out.unchanged += 1
            continue
        if old is None:
            out.added += 1
        else:
            out.changed += 1
        rows.append(row)
    gone = [k for k in stored if k not in seen]
    out.removed = len(gone)
    if not dry_run:
        bulk.upsert_source_records(conn, rows)
        bulk.delete_source_records(conn, SOURCE, gone)
        bulk.append_journal(conn, [journal.cwms_import_row(run_id, actor, now, out.to_dict())])
    return out


def adopt_site(rt: Runtime, now: datetime, *, dry_run: bool = False) -> Adopted:
    """Read every account of the ``[cwms]`` site and adopt them (one transaction, taken once the read is whole, so
    the database is not held during it). A read that fails or stops short adopts nothing (exit 69)."""
    client = rt.cwms_client()
    try:
        accounts = list(client.list_accounts())
    except CwmsError as e:
        raise errors.UserError(f"{client.opts.site}: {one_line(e, 240)}", errors.SOURCE_UNAVAILABLE) from None
    finally:
        client.close()
    run_id = uuid.uuid4().hex
    if dry_run:
        with rt.engine.connect() as conn:
            return adopt(conn, accounts, run_id, rt.actor, now, dry_run=True)
    with begin_write(rt.engine) as conn:
        return adopt(conn, accounts, run_id, rt.actor, now)
