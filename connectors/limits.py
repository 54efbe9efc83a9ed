"""The limits of a record's values: the longest value of each kind that the store holds, and the characters
no stored value may carry.

``syncd.store.limits`` takes its column lengths from here, so that the schema and the record validation
(:mod:`connectors.facts`) share one number. Changing a length here changes the schema: it needs a migration.
"""

from __future__ import annotations

EMAIL = 320     # RFC 5321: 64 + 1 + 255; an e-mail key (people.email, source_records.email_key)
KEY = 128       # a source's record key (CUCM pkid, AD objectGUID, file row key): source_records.source_key
NAME = 256      # a person's display name: people.display_name
# Any other value a record keeps in source_records.data (userid, sAMAccountName, mail as sent): JSON has no
# length of its own, so this is what keeps one record's data bounded; as long as a CSV field may be.
TEXT = 128 * 1024
