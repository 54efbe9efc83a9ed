"""The bodies of rules R1-R12, by concern; :mod:`policy.engine` dispatches each event to one of them.

- :mod:`~policy.rules.hosting`: host requests (R1-R4) and the end of a meeting;
- :mod:`~policy.rules.people`: deactivation, deletion, reactivation, management change, a person first seen
  (R5, R6, R11);
- :mod:`~policy.rules.pool`: purchases, Demonstration grants, the trial, reservations, the upgrade
  (R7, R9, R12; R8 through :mod:`~policy.rules.promotion`);
- :mod:`~policy.rules.sweep`: the clock (R10).

Every rule takes a :class:`~policy.rules.context.Context` (the ledger, event, settings and ``now``), appends
actions to it and returns ``context.done(...)``.  Rules never import :mod:`policy.engine`.
"""
