"""What every benchmark prints and writes: percentiles of its timings and a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).parent / "results"


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds of timings in seconds."""
    values = np.array(samples) * 1000.0
    return {"p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99))}


def print_timings(figures: dict[str, Any], names: tuple[str, ...], width: int = 12) -> None:
    for name in names:
        if name in figures:
            f = figures[name]
            print(f"{name:{width}} p50 {f['p50_ms']:8.2f} ms   p99 {f['p99_ms']:8.2f} ms")


def write_results(name: str, figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=1))
