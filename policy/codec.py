"""JSON round trip of decisions (the journal stores them; replay from the journal must reproduce the ledger).

Every event, action, license and notice is a frozen dataclass; it is written as an object with a ``"type"`` tag
(the class name) and its fields.  Times are ISO 8601 strings with their UTC offset and keep microseconds, enums
are their values, tuples are lists.  Decoding is driven by the dataclasses' type hints, so it is exact.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from policy.decisions import ACTION_TYPES, Decision, Notice
from policy.events import EVENT_TYPES, AddPerson, Holding
from policy.model import HeldLicense, Management
from policy.rules.context import require_aware
from policy.rules.people import added
from policy.settings import Settings

FORMAT = 1

_REGISTRY: dict[str, type] = {c.__name__: c for c in (*EVENT_TYPES, *ACTION_TYPES, HeldLicense, Holding,
                                                             Notice)}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive time cannot be journaled")
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        name = value.get("type")
        cls = _REGISTRY.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ValueError(f"unknown record type in journal: {name!r}")
        hints = _hints(cls)
        kwargs = {f.name: _decode(value[f.name], hints[f.name]) for f in dataclasses.fields(cls) if f.name in value}
        return cls(**kwargs)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item, *_rest) = typing.get_args(hint)
        return tuple(_decode(v, item) for v in value)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        for a in args:
            if a is datetime and isinstance(value, str):
                return datetime.fromisoformat(value)
            if isinstance(a, type) and issubclass(a, Enum):
                return a(value)
        return value
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    """A JSON-ready dict of the decision; :func:`decision_from_dict` gives back an equal decision."""
    out: dict[str, Any] = {"format": FORMAT}
    for f in dataclasses.fields(decision):
        out[f.name] = _encode(getattr(decision, f.name))
    return out


def decision_from_dict(data: dict[str, Any]) -> Decision:
    fmt = data.get("format")
    if fmt != FORMAT:
        raise ValueError(f"unsupported decision format: {fmt!r}")
    hints = _hints(Decision)
    kwargs = {f.name: _decode(data[f.name], hints[f.name]) for f in dataclasses.fields(Decision) if f.name in data}
    return Decision(**kwargs)


ADDED_PERSON = "AddPerson"      # the tag of an added_person_record


def added_person_record(settings: Settings) -> dict[str, Any]:
    """What a journal row of a person first seen by a sync records of its AddPerson decision.

    That decision follows from its event alone (no ledger, no license effect; :func:`policy.person_added`), so
    the row keeps the event's fields in its own columns (person, time, the person's state) and this record,
    which is the same for every person created under ``settings``: a 400,000-person first sync encodes one small
    record instead of 400,000 decisions. :func:`decision_from_added_record` gives the decision back.
    """
    return {"compact": ADDED_PERSON, "settings_digest": settings.digest()}


def decision_from_added_record(person: str, active: bool, management: Management, at: datetime,
                               record: dict[str, Any] | None) -> Decision:
    """The AddPerson decision that a journal row with ``record`` stands for.

    ``record`` None reads a row written before rows carried this record: such a row has the event's fields and
    nothing else, and the default settings' digest stands in (a replay folds only the actions, which the
    settings do not change)."""
    require_aware(at)
    if record is not None and record.get("compact") != ADDED_PERSON:
        raise ValueError(f"not an AddPerson record: {record!r}")
    digest = record["settings_digest"] if record is not None else Settings().digest()
    return added(AddPerson(person, active, management), at, digest)

