"""What the usage-store and plan-comparison benches share: a measured figure, how it is timed,
and the JSON of figures that bench/run.py reads back."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = "-"
    holds: bool | None = None


def best(repeats: int, run: Callable[[], float]) -> float:
    """The smallest of `repeats` timings (the least disturbed by the other users of the box)."""
    return min(run() for _ in range(repeats))


def timed(action: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def finish(figures: Sequence[Figure], json_path: Path | None) -> int:
    """Write the figures to `json_path` if given; the exit status: 1 if a target does not hold."""
    if json_path:
        json_path.write_text(
            json.dumps([vars(f) for f in figures], indent=2) + "\n", encoding="utf-8"
        )
    return 1 if any(f.holds is False for f in figures) else 0
