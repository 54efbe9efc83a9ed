"""The CWMS host-license policy engine: pure domain code, no I/O, no database, no clock reads.

``decide(ledger, event, settings, now)`` applies rules R1-R12 (DESIGN 5 and 11) and returns a
:class:`Decision`; ``apply`` folds it into the ledger; ``replay`` rebuilds a ledger from journaled decisions;
``explain`` answers "what would hosting at T do, and why"; ``notices`` lists the admin warnings at ``now``;
``summarize`` gives the license counts at a time (a sweep, then counts); ``person_added`` is the decision on a
person first seen, without a ledger.
See :mod:`policy.engine` for how a decision stays correct on the subset of people the store loads.
"""

from policy.codec import added_person_record, decision_from_added_record, decision_from_dict, decision_to_dict
from policy.decisions import (
    Action,
    AddDemoGrant,
    AddPurchase,
    AssignLicense,
    CloseMeeting,
    Decision,
    EndTrial,
    ExpireLicense,
    Notice,
    OpenMeeting,
    ReleaseLicense,
    RemarkLicense,
    SetCwmsVersion,
    SetFirstGrace,
    SetLastHosted,
    SetPersonState,
    SetTrial,
)
from policy.engine import apply, decide, replay
from policy.events import (
    AddPerson,
    Deactivation,
    Deletion,
    Event,
    GrantDemonstration,
    Holding,
    HostRequest,
    ImportHoldings,
    ManagementChange,
    MeetingEnd,
    PurchasePermanent,
    Reactivation,
    Reserve,
    SetInstalled,
    StartTrial,
    Sweep,
    Upgrade,
    subject_of,
)
from policy.explain import Explanation, IfHosting, explain
from policy.model import (
    DemoGrant,
    HeldLicense,
    Ledger,
    LicenseKind,
    LicenseState,
    Management,
    Meeting,
    PersonState,
    Purchase,
    TrialWindow,
)
from policy.notices import notices
from policy.rules.people import person_added
from policy.settings import Settings
from policy.summary import LicenseSummary, summarize

__all__ = [
    "Action",
    "AddDemoGrant",
    "AddPerson",
    "AddPurchase",
    "AssignLicense",
    "CloseMeeting",
    "Deactivation",
    "Decision",
    "Deletion",
    "DemoGrant",
    "EndTrial",
    "Event",
    "ExpireLicense",
    "Explanation",
    "GrantDemonstration",
    "HeldLicense",
    "Holding",
    "HostRequest",
    "IfHosting",
    "ImportHoldings",
    "Ledger",
    "LicenseKind",
    "LicenseState",
    "LicenseSummary",
    "Management",
    "ManagementChange",
    "Meeting",
    "MeetingEnd",
    "Notice",
    "OpenMeeting",
    "PersonState",
    "Purchase",
    "PurchasePermanent",
    "Reactivation",
    "ReleaseLicense",
    "RemarkLicense",
    "Reserve",
    "SetCwmsVersion",
    "SetFirstGrace",
    "SetInstalled",
    "SetLastHosted",
    "SetPersonState",
    "SetTrial",
    "Settings",
    "StartTrial",
    "Sweep",
    "TrialWindow",
    "Upgrade",
    "added_person_record",
    "apply",
    "decide",
    "decision_from_added_record",
    "decision_from_dict",
    "decision_to_dict",
    "explain",
    "notices",
    "person_added",
    "replay",
    "subject_of",
    "summarize",
]
