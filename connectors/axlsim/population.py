"""A reproducible CUCM end-user population for the simulator.

The mix is what a real cluster holds: mostly LDAP-synchronized users (some of them "Inactive LDAP Synchronized
User", status 2), local users, users without e-mail, a few e-mails used twice, and names with non-ASCII and
XML-special characters. The same ``(users, seed)`` always gives the same people and uuids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

LDAP_DIRECTORY = "corp-ad"
LDAP_DIRECTORY_PKID = "5b0c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4"

_FIRST = ("Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kateřina", "Liam",
          "Mia", "Noah", "Olga", "Pál", "Quinn", "Rosa", "Søren", "Tomás", "Uma", "Viktor", "Wen", "Xavier",
          "Yara", "Zoë", "Łukasz", "Ærin", "美咲", "Dmitrij")
_LAST = ("Andersen", "Brown", "Costa", "Dubois", "Eriksson", "Fischer", "García", "Horvat", "Ivanova", "Jensen",
         "Kowalski", "López", "Müller", "Novák", "O'Brien", "Petrović", "Quispe", "Rossi", "Schmidt", "Tanaka",
         "Ünal", "Varga", "Weiß", "Xu", "Yilmaz", "Zieliński", "Smith & Sons", "<Admin>", "Ng \"Ted\"", "山田")


def pkid_from(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


@dataclass(slots=True)
class SimUser:
    """One simulated ``enduser`` row."""

    pkid: str                   # lower-case GUID, as SQL returns it
    userid: str
    mailid: str | None
    firstname: str | None
    lastname: str | None
    status: int                 # 1 active; 2 Inactive LDAP Synchronized User
    ldap: bool                  # LDAP-synchronized (fkdirectorypluginconfig set) or local

    @property
    def uuid(self) -> str:
        """The AXL form: ``{UPPER-CASE}``."""
        return "{" + self.pkid.upper() + "}"


def generate(users: int, seed: int = 1) -> list[SimUser]:
    """``users`` people, sorted by pkid (the order SQL ``ORDER BY pkid`` and listUser pages use)."""
    rng = random.Random(seed)
    out: list[SimUser] = []
    for i in range(users):
        first = _FIRST[rng.randrange(len(_FIRST))]
        last = _LAST[rng.randrange(len(_LAST))]
        ldap = rng.random() < 0.8
        status = 2 if ldap and rng.random() < 0.05 else 1
        userid = f"u{i:06d}"
        r = rng.random()
        if r < 0.02:
            mail = None                                 # no e-mail: skipped and counted by the reconciler
        elif r < 0.025 and out and out[-1].mailid:
            mail = out[-1].mailid                       # the same e-mail on two users: a conflict
        else:
            mail = f"{userid}@example.com" if rng.random() < 0.9 else f"{first}.{userid}@Example.COM"
        out.append(SimUser(pkid_from(rng), userid, mail, first, last, status, ldap))
    out.sort(key=lambda u: u.pkid)
    return out
