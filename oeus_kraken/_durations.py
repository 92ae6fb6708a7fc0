"""Waits in a user's words ("45 seconds", "3 minutes"): for the messages of errors, logs and the
CLI alike, so that each says a wait the same way."""

from __future__ import annotations

import math


def say_seconds(seconds: float) -> str:
    """A wait in a user's words: "1 second", "45 seconds", "3 minutes", "5 hours"."""
    if not math.isfinite(seconds):
        return "a very long time"
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{math.ceil(minutes / 60)} hours"
