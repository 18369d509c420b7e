"""Genres as bundles of musical traits, and named demo artists built from them.

A genre fixes what a listener would recognise it by: a tempo range, grooves and
swing, the synth voices of bass, harmony and lead, how often it is in minor and
how loud it is mastered. Artists draw a signature inside their genre (a tempo
centre, one kit, one set of voices), so taste clusters planted on audio
features by the recommendation work line up with genres and artists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Genre:
    name: str
    parent: str
    tempo: tuple[float, float]
    minor_share: float
    grooves: tuple[str | None, ...]  # None: a track without drums
    kits: tuple[str, ...]
    swing: tuple[float, float]
    basses: tuple[str, ...]
    bass_patterns: tuple[str, ...]
    pads: tuple[str, ...]
    pad_patterns: tuple[str, ...]
    leads: tuple[str | None, ...]
    loudness_lufs: tuple[float, float]
    sevenths_share: float = 0.0


# fmt: off
# name, parent, tempo, minor share, grooves, kits, swing, basses, bass patterns, harmony voices,
# harmony patterns, leads, loudness (LUFS), share of seventh chords
GENRES: dict[str, Genre] = {g.name: g for g in (
    Genre("house", "electronic", (118, 128), 0.5, ("four_on_floor", "disco"), ("909", "808"),
          (0.5, 0.54), ("fm_bass", "saw_bass"), ("offbeat", "syncopated"),
          ("warm_pad", "organ", "epiano"), ("stabs", "sustain", "comp"),
          ("saw_lead", "fm_lead", None), (-11, -8), 0.3),
    Genre("techno", "electronic", (126, 140), 0.8, ("four_on_floor",), ("909",), (0.5, 0.5),
          ("saw_bass", "sine_bass"), ("offbeat", "eighths"), ("warm_pad", "bell"),
          ("arp16", "stabs", "sustain"), (None, "saw_lead"), (-10, -8)),
    Genre("drum and bass", "electronic", (160, 180), 0.7, ("breakbeat",), ("909", "acoustic"),
          (0.5, 0.52), ("saw_bass", "sine_bass"), ("whole", "halves", "syncopated"),
          ("warm_pad", "string_pad"), ("sustain", "arp8"), ("fm_lead", "bell"), (-11, -8)),
    Genre("synthpop", "pop", (100, 132), 0.3, ("rock", "disco"), ("808", "909"), (0.5, 0.52),
          ("fm_bass", "saw_bass"), ("eighths", "quarters"), ("warm_pad", "epiano", "bell"),
          ("sustain", "stabs", "arp8"), ("square_lead", "fm_lead"), (-12, -9)),
    Genre("indie rock", "rock", (100, 165), 0.4, ("rock",), ("acoustic",), (0.5, 0.52),
          ("pluck_bass", "saw_bass"), ("eighths", "quarters"), ("guitar", "organ"),
          ("strum", "arp8", "sustain"), ("guitar", "saw_lead", None), (-11, -8)),
    Genre("lo-fi hip hop", "hip hop", (70, 95), 0.5, ("hiphop",), ("808", "brushes"),
          (0.56, 0.64), ("sine_bass", "pluck_bass"), ("syncopated", "halves"),
          ("epiano", "piano"), ("comp", "sustain"), ("flute", "bell", None), (-16, -12), 0.8),
    Genre("jazz fusion", "jazz", (92, 150), 0.4, ("shuffle", "funk"), ("brushes", "acoustic"),
          (0.58, 0.64), ("pluck_bass",), ("walking",), ("epiano", "organ", "piano"), ("comp",),
          ("flute", "square_lead"), (-18, -13), 0.7),
    Genre("ambient", "ambient", (60, 90), 0.5, (None, "hiphop", None), ("brushes",), (0.5, 0.54),
          ("sine_bass",), ("whole", "halves"), ("string_pad", "choir_pad", "warm_pad", "harp"),
          ("arp8", "sustain"), ("bell", "flute", None), (-24, -16)),
    Genre("folk", "folk", (72, 132), 0.4, ("rock", "shuffle", None), ("brushes", "acoustic"),
          (0.5, 0.6), ("pluck_bass",), ("halves", "quarters"), ("guitar", "harp", "piano"),
          ("strum", "arp8"), ("flute", "harp", None), (-18, -12)),
    Genre("funk", "soul", (95, 120), 0.4, ("funk",), ("acoustic",), (0.5, 0.57),
          ("fm_bass", "pluck_bass"), ("syncopated", "eighths"), ("organ", "epiano"),
          ("comp", "stabs"), ("square_lead", "saw_lead"), (-12, -9), 0.5),
)}
# fmt: on

_ARTIST_WORDS = {
    "electronic": (("Neon", "Static", "Binary", "Chrome", "Pulse"), ("Circuit", "Signal", "Grid")),
    "pop": (("Velvet", "Golden", "Paper", "Crystal"), ("Hearts", "Satellites", "Summer")),
    "rock": (("Hollow", "Crimson", "Iron", "Broken"), ("Foxes", "Engines", "Pilots")),
    "hip hop": (("Quiet", "Midnight", "Dusty", "Slow"), ("Tapes", "Rooftops", "Corners")),
    "jazz": (("Blue", "Amber", "Smoky", "Late"), ("Quartet", "Trio", "Lounge")),
    "ambient": (("Distant", "Glacial", "Silver", "Hazy"), ("Tides", "Lanterns", "Drift")),
    "folk": (("Wandering", "Old", "Willow", "Northern"), ("Orchards", "Rivers", "Harbor")),
    "soul": (("Electric", "Sweet", "Velvet", "Funky"), ("Grooves", "Brothers", "Machine")),
}
_WORDS = (
    "light", "city", "summer", "falling", "dream", "signal", "ocean", "fire", "glass",
    "winter", "motion", "shadow", "heart", "radio", "drift", "bloom", "echo", "gravity",
    "horizon", "velvet", "static", "golden", "midnight", "wander",
)  # fmt: skip


@dataclass(frozen=True)
class Artist:
    """A named act: its genre and the signature it plays every track with."""

    name: str
    genre: Genre
    tempo_center: float
    kit: str
    bass: str
    pad: str
    lead: str | None
    minor_share: float


def draw_artists(count: int, rng: np.random.Generator) -> list[Artist]:
    """``count`` artists with distinct names, genres taken in turn so each genre has some."""
    genres = list(GENRES.values())
    used: set[str] = set()
    artists = []
    for index in range(count):
        genre = genres[index % len(genres)]
        first, second = _ARTIST_WORDS[genre.parent]
        for attempt in range(50):
            name = f"{pick(rng, first)} {pick(rng, second)}"
            if attempt >= 40:  # the genre's word pairs are used up: number the newcomer
                name = f"{name} {index + 1}"
            if name not in used:
                break
        used.add(name)
        artists.append(
            Artist(
                name=name,
                genre=genre,
                tempo_center=float(rng.uniform(*genre.tempo)),
                kit=pick(rng, genre.kits),
                bass=pick(rng, genre.basses),
                pad=pick(rng, genre.pads),
                lead=pick(rng, genre.leads),
                minor_share=float(np.clip(genre.minor_share + rng.uniform(-0.2, 0.2), 0, 1)),
            )
        )
    return artists


def title_words(rng: np.random.Generator, words: int) -> str:
    picks = rng.choice(len(_WORDS), size=words, replace=False)
    return " ".join(_WORDS[int(i)] for i in picks).title()


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]
