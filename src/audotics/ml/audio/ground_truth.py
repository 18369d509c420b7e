"""Ground truth of an evaluation clip: the JSON sidecar written next to each audio file.

A sidecar ``clip.json`` describes ``clip.<ext>`` in the same directory. Tempo, key
and mode are what the clip was composed with; loudness and duration are measured
on the encoded file as a decoder reads it back, with the project's BS.1770 meter,
so lossy encoding and limiting are part of the truth rather than an error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from audotics.ml.audio.loudness import measure_loudness

# soundfile (format, subtype) per file extension.
FORMATS = {
    "flac": ("FLAC", "PCM_16"),
    "wav": ("WAV", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
}


@dataclass(frozen=True)
class GroundTruth:
    file: str  # audio file name, relative to the sidecar's directory
    source: str  # "synthetic" | "midi"
    tempo_bpm: float
    key: str  # "C", "C#", ... "B"
    mode: str  # "major" | "minor"
    loudness_lufs: float | None  # measured on the decoded file
    duration_s: float  # measured on the decoded file
    instrumentation: tuple[str, ...]
    seed: int
    details: dict[str, Any] = field(default_factory=dict)
    directory: Path | None = field(default=None, compare=False)

    @property
    def path(self) -> Path:
        return (self.directory or Path(".")) / self.file

    @property
    def sidecar_path(self) -> Path:
        return self.path.with_suffix(".json")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("directory")
        data["instrumentation"] = list(self.instrumentation)
        return data

    def write(self) -> Path:
        self.sidecar_path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return self.sidecar_path

    @classmethod
    def read(cls, sidecar: Path) -> GroundTruth:
        data = json.loads(sidecar.read_text())
        data["instrumentation"] = tuple(data["instrumentation"])
        return cls(**data, directory=sidecar.parent)


def read_set(directory: Path) -> list[GroundTruth]:
    """Every sidecar in ``directory`` whose audio file exists, sorted by file name."""
    truths = [GroundTruth.read(p) for p in sorted(Path(directory).glob("*.json"))]
    return [t for t in truths if t.path.exists()]


def encode(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write ``samples`` (``(n,)`` or ``(n, channels)``) in the format named by the extension."""
    fmt, subtype = FORMATS[path.suffix.lstrip(".").lower()]
    sf.write(path, samples, sample_rate, format=fmt, subtype=subtype)


def measure_file(path: Path) -> tuple[float | None, float]:
    """(integrated loudness in LUFS, duration in seconds) of a file as a decoder reads it."""
    samples, sample_rate = sf.read(path, dtype="float32", always_2d=True)
    loudness = measure_loudness(samples, sample_rate).integrated_lufs
    return (None if loudness is None else round(loudness, 3)), samples.shape[0] / sample_rate
