"""The limits of what the store holds: the column lengths of :mod:`syncd.store.tables` and the ranges that every
input is checked against (:mod:`syncd.licensing.inputs`), so that the schema and the validation share one number.
The limits of a record's values (e-mail keys, record keys, display names) come from :mod:`connectors.limits`,
where the connectors validate every record against them.

Changing a length here changes the schema: it needs a migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.limits import EMAIL as EMAIL
from connectors.limits import KEY as KEY
from connectors.limits import NAME as NAME

SOURCE = 64  # a configured source name
RUN_ID = 32  # uuid4 hex
ACTOR = 128  # cli:$USER | api | scheduler
GRANT_ID = 64  # a Demonstration grant's id
MEETING_ID = KEY
CONDITION = 96  # an alert condition's key: a name, or source_failing:SOURCE
RECEIVER = 16  # an alert receiver: the first hex digits of its URL's SHA-256 (never the URL: it may hold a secret)

# CWMS's own maximum of accounts: no site can use more licenses than it has accounts, so no count of licenses
# (one purchase, one grant, the installed total) or of simulated users can usefully exceed it.
MAX_COUNT = 400_000

# The most journal rows one `journal --limit` asks for; more rows than any answer can usefully print.
MAX_ROWS = 10_000_000

# The times an input may name. The policy adds at most a few of grace_days, trial_days and idle_release_days
# (each at most 3650 days, syncd.settings.schema), release_hold and meeting_timeout (also at most 3650 days) to
# a time, or subtracts them; a thousand years of margin below datetime's year 9999 and no time before the epoch
# keep every computed expiry representable in Python and in both databases.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
