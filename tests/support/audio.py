"""Tiny audio files generated in-test (never committed): a sine tone in each format."""

from __future__ import annotations

import io

import numpy as np
import soundfile

# (soundfile format, subtype, sample rate): Opus only runs at 8/12/16/24/48 kHz.
FORMATS = {
    "wav": ("WAV", "PCM_16", 22050),
    "flac": ("FLAC", "PCM_16", 22050),
    "ogg": ("OGG", "VORBIS", 22050),
    "opus": ("OGG", "OPUS", 48000),
    "mp3": ("MP3", "MPEG_LAYER_III", 22050),
}


def tone(seconds: float = 1.0, sample_rate: int = 22050, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def encode(kind: str = "wav", seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    """``seconds`` of a sine tone as a ``kind`` file (see FORMATS)."""
    fmt, subtype, rate = FORMATS[kind]
    buffer = io.BytesIO()
    soundfile.write(buffer, tone(seconds, rate, frequency), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()
