"""The offline route (DESIGN.md 12): a CWMS user-import CSV with ``ACTIVE=N`` rows, for sites whose XML API is closed.

The columns and encodings are those the CWMS 1.0 guide lists (reference ``cwms-xmlapi.md`` section 10, unverified
on later versions: they live in :data:`COLUMNS` and :data:`ENCODINGS` only). CWMS matches an imported row by
EMAIL; USERID is left blank, as the guide says. Every cell that a spreadsheet would run as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a CR) is made inert with a leading apostrophe.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

COLUMNS = ("USERID", "ACTIVE", "FIRSTNAME", "LASTNAME", "EMAIL")
ENCODINGS = {
    # name: (codec, byte-order mark, delimiter); "utf-16" is the guide's "Unicode tab file" for non-ASCII names,
    # written UTF-16LE with a BOM as cloud WebEx exports are
    "utf-8": ("utf-8", "", ","),
    "utf-16": ("utf-16-le", "\ufeff", "\t"),
}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Deactivation:
    email: str
    first_name: str
    last_name: str


def inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it but never evaluates it."""
    return "'" + cell if cell.startswith(_FORMULA) else cell


def split_name(name: str | None, email: str) -> tuple[str, str]:
    """FIRSTNAME and LASTNAME (both required by the import) from a CUCM display name, else the e-mail's local part."""
    words = (name or "").split()
    if len(words) >= 2:
        return " ".join(words[:-1]), words[-1]
    word = words[0] if words else email.split("@", 1)[0]
    return word, word


def write_deactivations(path: str, rows: Iterable[Deactivation], encoding: str = "utf-8") -> int:
    """Write the CSV to ``path`` (created 0600, replaced atomically); returns the rows written."""
    codec, bom, delimiter = ENCODINGS[encoding]
    # a new file of a name no one else can have taken (O_EXCL, mode 0600): the directory may be shared (/tmp),
    # and a name chosen in advance could be a link planted there to make this write elsewhere
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    n = 0
    try:
        with open(fd, "w", encoding=codec, newline="") as fh:
            fh.write(bom)
            out = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
            out.writerow(COLUMNS)
            for r in rows:
                out.writerow(["", "N", inert(r.first_name), inert(r.last_name), inert(r.email)])
                n += 1
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return n
