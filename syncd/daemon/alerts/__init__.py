"""Alerts (DESIGN.md 13): conditions judged from the stored state after each run, sent with apprise to every
configured receiver, one alert when a condition starts and one when it clears (evaluate.py)."""
