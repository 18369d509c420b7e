"""Where the real evaluation data lives: ../shared/data beside the checkout (read in place).

CI may run from a clone somewhere else on the same machine, so the shared folder is
also looked for at its fixed location, and ``AUDOTICS_SHARED_DATA`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data(name: str) -> Path:
    """The first existing ``<shared>/data/<name>``; the beside-the-checkout path if none."""
    candidates = []
    if os.environ.get("AUDOTICS_SHARED_DATA"):
        candidates.append(Path(os.environ["AUDOTICS_SHARED_DATA"]) / name)
    candidates += [REPO.parent / "shared" / "data" / name, Path("/work/shared/data") / name]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]
