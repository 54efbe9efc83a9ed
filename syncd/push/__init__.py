"""What syncd writes back to CWMS (DESIGN.md 12): the drift between people and CWMS accounts, the outbox rows a
plan writes in its own transaction, and the sender that works them after commit."""
