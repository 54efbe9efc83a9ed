"""Site license settings (DESIGN 5, 9a ``[licenses]``)."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

CwmsVersion = Literal["2.0", "2.5"]
GracePromotion = Literal["purchase", "any", "manual"]


@dataclass(frozen=True)
class Settings:
    """The rules' knobs.  ``None`` means "the default that depends on other values" (see the ``effective_*``).

    ``grace_promotion``: "purchase" promotes Grace holders to Permanent when licenses are purchased (R7);
    "any" also when a Permanent is freed (R8, and by the sweep); "manual" only when an admin reserves (R9).
    ``release_hold``: how long a deactivated person's Permanent stays bound before the sweep releases it.
    ``meeting_timeout``: an open meeting never ended counts as ended after this.
    """

    cwms_version: CwmsVersion = "2.5"
    grace_days: int = 180
    trial_days: int = 180
    grace_limit: int | None = None
    grace_promotion: GracePromotion = "purchase"
    max_concurrent_meetings: int | None = None
    idle_release_days: int = 90
    release_hold: timedelta = timedelta(0)
    meeting_timeout: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.cwms_version not in ("2.0", "2.5"):
            raise ValueError(f'cwms_version must be "2.0" or "2.5", not {self.cwms_version!r}')
        if self.grace_promotion not in ("purchase", "any", "manual"):
            raise ValueError(f'grace_promotion must be "purchase", "any" or "manual", not {self.grace_promotion!r}')
        for name in ("grace_days", "trial_days", "idle_release_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.grace_limit is not None and self.grace_limit < 0:
            raise ValueError("grace_limit must not be negative")
        if self.max_concurrent_meetings is not None and self.max_concurrent_meetings < 1:
            raise ValueError("max_concurrent_meetings must be at least 1")
        if self.release_hold < timedelta(0):
            raise ValueError("release_hold must not be negative")
        if self.meeting_timeout <= timedelta(0):
            raise ValueError("meeting_timeout must be positive")

    def effective_grace_limit(self, installed: int) -> int:
        """``grace_limit``, or by default ceil(10% of installed Permanent), at least 1."""
        if self.grace_limit is not None:
            return self.grace_limit
        return max(1, -(-installed // 10))

    def effective_max_concurrent(self) -> int:
        """``max_concurrent_meetings``, or by default 2 in 2.5 and 1 in 2.0."""
        if self.max_concurrent_meetings is not None:
            return self.max_concurrent_meetings
        return 1 if self.cwms_version == "2.0" else 2

    @property
    def grace_period(self) -> timedelta:
        return timedelta(days=self.grace_days)

    @property
    def trial_period(self) -> timedelta:
        return timedelta(days=self.trial_days)

    @property
    def idle_period(self) -> timedelta:
        return timedelta(days=self.idle_release_days)

    def to_dict(self) -> dict[str, object]:
        """The values, JSON-ready (durations in seconds)."""
        return {
            "cwms_version": self.cwms_version,
            "grace_days": self.grace_days,
            "trial_days": self.trial_days,
            "grace_limit": self.grace_limit,
            "grace_promotion": self.grace_promotion,
            "max_concurrent_meetings": self.max_concurrent_meetings,
            "idle_release_days": self.idle_release_days,
            "release_hold": self.release_hold.total_seconds(),
            "meeting_timeout": self.meeting_timeout.total_seconds(),
        }

    def digest(self) -> str:
        """A short stable hash of the values, recorded with every decision."""
        return _digest(self)


@functools.lru_cache(maxsize=16)
def _digest(settings: Settings) -> str:
    # Every decision records it: a 400,000-person sync must not JSON-encode the settings once per decision.
    text = json.dumps(settings.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
