"""A source batch's records as facts: what the reconciler keeps of each record (the fact class its source type
declares, ``connectors/<type>/fact.py``), so that the records can be dropped at once."""

from __future__ import annotations

from typing import Any

from connectors.base import Invalid, Removed, Role, SourceBatch
from syncd.sync.plan import SourceFacts, SourceSpec


def source_facts(spec: SourceSpec, batch: SourceBatch) -> SourceFacts:
    """The facts of a batch (only a complete batch's facts are ever used, so an incomplete one keeps none)."""
    facts, removed, no_email, invalid = _facts_of(spec, batch) if batch.complete else ([], [], 0, [])
    return SourceFacts(batch.source, batch.complete, batch.full, len(batch.records), batch.error, batch.cursor,
                       list(batch.notes), facts, removed, no_email, invalid)


def _facts_of(spec: SourceSpec, batch: SourceBatch) -> tuple[list[Any], list[str], int, list[Invalid]]:
    """Facts of a batch's records (or of the facts the read's ``convert`` made of them), keys of removed records,
    for a source that makes people the count of records without e-mail, and the records the store cannot hold."""
    fact, convert = spec.fact, spec.fact.convert
    counts_no_email = spec.role is Role.PEOPLE
    facts: list[Any] = []
    removed: list[str] = []
    invalid: list[Invalid] = []
    no_email = 0
    for r in batch.records:
        f = r if type(r) is fact or type(r) is Removed or type(r) is Invalid else convert(r)
        if type(f) is Removed:
            removed.append(f.key)
            continue
        if type(f) is Invalid:
            invalid.append(f)
            continue
        if counts_no_email and f.email is None:
            no_email += 1
        facts.append(f)
    return facts, removed, no_email, invalid
