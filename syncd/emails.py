"""Look-alike person keys (DESIGN.md section 11). The key itself is ``connectors.emails.email_key``.

Different letters stay different people: a Cyrillic 'а' is not a Latin 'a'. Such look-alikes are never merged;
:func:`lookalike_groups` finds them so that they can be reported as a warning.

The key is case-folded (``str.casefold``, binding in DESIGN.md section 11), and full case folding goes beyond lower
case: 'ß' folds to 'ss' and the ligature 'ﬀ' to 'ff', so ``STRAßE@`` and ``strasse@`` are one person.
:func:`folded_beyond_case` finds the addresses so folded, so that such merges are warned about, never silent.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable

# The usual confusables of Latin letters in e-mail addresses (Cyrillic and Greek). Only used to *warn*.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
        "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "ս": "u", "ԝ": "w", "х": "x", "у": "y",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "ı": "i", "ℓ": "l", "０": "0", "１": "1",
    }
)


def skeleton(key: str) -> str:
    """A folding of look-alike characters, for warnings only (never for matching)."""
    return unicodedata.normalize("NFKD", key).translate(_CONFUSABLES)


def folded_beyond_case(addresses: Iterable[str | None]) -> list[tuple[str, str]]:
    """(address as written, its key) for each distinct address whose key is not merely its lower case. Only a
    non-ASCII address can fold beyond lower case."""
    found: dict[str, str] = {}
    for raw in addresses:
        if raw is None or raw.isascii() or raw in found:
            continue
        written = unicodedata.normalize("NFC", raw).strip()
        key = written.casefold()
        if written.lower() != key:
            found[raw] = key
    return sorted(found.items(), key=lambda item: (item[1], item[0]))


def lookalike_groups(keys: Iterable[str]) -> list[list[str]]:
    """Groups of distinct keys that look alike. Only non-ASCII keys can be look-alikes of another key."""
    keys = keys if isinstance(keys, (set, frozenset)) else set(keys)
    suspects = [k for k in keys if not k.isascii()]
    if not suspects:
        return []
    by_skeleton: dict[str, set[str]] = defaultdict(set)
    for k in suspects:
        s = skeleton(k)
        by_skeleton[s].add(k)
        if s in keys:
            by_skeleton[s].add(s)
    return [sorted(g) for g in by_skeleton.values() if len(g) > 1]
