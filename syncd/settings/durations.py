"""Durations (``"15m"``, ``"1h30m"``) and five-field cron expressions with crontab's meaning."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_UNIT = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1), "m": timedelta(minutes=1),
         "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(value: Any) -> timedelta:
    """``"15m"`` -> 15 minutes; units ms, s, m, h, d, w, combinable (``"1h30m"``); never negative."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError("a duration cannot be negative")
        return value
    if not isinstance(value, str):
        raise ValueError('expected a duration string such as "30s", "15m", "1h" or "90d"')
    text = value.strip().lower().replace(" ", "")
    if not _DURATION_WHOLE.fullmatch(text):
        raise ValueError(f'invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), e.g. "15m"')
    try:
        return sum((float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(text)), timedelta(0))
    except OverflowError:
        raise ValueError(f"duration {value!r} is too long") from None


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _CRON_DAYS:
        return _CRON_DAYS.index(token)
    raise ValueError(f"invalid day of week {token!r} (0-7 or sun-sat; 0 and 7 are Sunday)")


def _cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler 3 day names.

    APScheduler 3's ``CronTrigger.from_crontab`` reads weekday numbers with 0 = Monday, so ``1-5`` would run
    Tuesday to Saturday; the days are therefore spelled out by name.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        m = re.fullmatch(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?", item)
        if not m:
            raise ValueError(f"invalid day of week {item!r}")
        first, last, step = m.group(1), m.group(2), int(m.group(3) or 1)
        if step == 0:
            raise ValueError(f"invalid step in {item!r}")
        lo = 0 if first == "*" else _cron_day(first)
        hi = _cron_day(last) if last else (6 if first == "*" or m.group(3) else lo)
        if lo > hi:
            raise ValueError(f"invalid day-of-week range {item!r}")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    ordered = [1, 2, 3, 4, 5, 6, 0]      # APScheduler's week starts on Monday
    return ",".join(_CRON_DAYS[d] for d in ordered if d in days)


def cron_trigger(expression: str, timezone: str | None = None) -> Any:
    """An APScheduler CronTrigger for a five-field crontab expression with crontab's meaning; ValueError when
    it is not one."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # crontab fires when either matches, APScheduler only when both do: refuse rather than guess.
        raise ValueError("restrict the day of month or the day of week, not both")
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(weekday),
                       timezone=ZoneInfo(timezone) if timezone else None)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
