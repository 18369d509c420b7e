"""Ground-truth music generator: seeded multi-instrument clips with known tempo, key and loudness.

A ``GeneratedClip`` describes a clip completely (tempo, key, genre traits, voices,
groove, form, loudness target); ``render`` turns it into samples, the same ones
for the same spec. ``generate_set`` writes a balanced evaluation set (all 24 keys,
60-180 BPM, every genre and format) as audio files with JSON sidecars
(``ground_truth.GroundTruth``); ``catalog`` names a demo catalog of artists and
albums whose genres follow from their sound.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from audotics.ml.audio import ground_truth
from audotics.ml.audio.genres import GENRES, Genre, draw_artists, pick, title_words
from audotics.ml.audio.ground_truth import GroundTruth
from audotics.ml.audio.instruments import DRUM_KITS, VOICES, drum_sample, midi_to_hz
from audotics.ml.audio.loudness import measure_loudness
from audotics.ml.audio.patterns import (
    PITCH_CLASSES,
    PROGRESSIONS,
    Arrangement,
    Note,
    Score,
    compose,
)

GENERATOR_VERSION = "1"
DEFAULT_FORMATS = ("flac", "mp3", "wav")
_ROLE_GAIN_DB = {"drums": 0.0, "bass": -4.0, "pad": -14.0, "lead": -9.0}
_ROLE_PAN = {"drums": 0.0, "bass": 0.0, "pad": -0.35, "lead": 0.3}
_PEAK_CEILING = 0.89  # -1 dBFS, leaves room for MP3 overshoot


@dataclass(frozen=True)
class GeneratedClip:
    """Everything that determines a clip; ``render`` is a pure function of it."""

    seed: int
    tempo_bpm: float
    key: str  # "C", "C#", ... "B"
    mode: str  # "major" | "minor"
    duration_s: float = 16.0
    sample_rate: int = 22_050
    channels: int = 1
    target_lufs: float = -14.0
    genre: str = "synthpop"
    progression: str = "I-V-vi-IV"
    groove: str | None = "rock"  # None: no drums
    kit: str = "acoustic"
    swing: float = 0.5
    fills: bool = True
    intro_bars: int = 0  # a quiet opening with the harmony only
    breakdown: bool = False  # two bars without drums in the middle
    bass: str = "fm_bass"
    bass_pattern: str = "halves"
    pad: str = "warm_pad"
    pad_pattern: str = "sustain"
    voicing: str = "voice_led"
    sevenths: bool = False
    lead: str | None = "square_lead"

    def __post_init__(self) -> None:
        if self.key not in PITCH_CLASSES or self.mode not in ("major", "minor"):
            raise ValueError(f"unknown key {self.key} {self.mode}")
        if not 30 <= self.tempo_bpm <= 300:
            raise ValueError(f"tempo {self.tempo_bpm} out of range")
        # The key is ground truth: a progression written for the other mode would contradict it.
        if self.progression not in PROGRESSIONS[self.mode]:
            raise ValueError(f"{self.progression} is not one of the {self.mode} progressions")
        voices = (self.bass, self.pad, self.lead or self.pad)
        if any(v not in VOICES for v in voices) or self.kit not in DRUM_KITS:
            raise ValueError(f"unknown voice or kit in {voices} / {self.kit}")

    @property
    def instrumentation(self) -> tuple[str, ...]:
        parts = [f"drums:{self.kit}" if self.groove else "no drums", f"bass:{self.bass}"]
        parts.append(f"harmony:{self.pad}")
        if self.lead:
            parts.append(f"lead:{self.lead}")
        return tuple(parts)

    @classmethod
    def draw(cls, seed: int, genre: str | Genre | None = None, **overrides: Any) -> GeneratedClip:
        """A random clip of ``genre`` (random genre if None); ``overrides`` fix any field."""
        rng = np.random.default_rng([seed, 0x6E6])
        if isinstance(genre, Genre):
            chosen = genre
        elif genre is None:
            chosen = pick(rng, tuple(GENRES.values()))
        else:
            chosen = GENRES[genre]
        mode = "minor" if rng.random() < chosen.minor_share else "major"
        mode = overrides.get("mode", mode)
        groove = pick(rng, chosen.grooves)
        groove = overrides.get("groove", groove)
        pad_patterns = chosen.pad_patterns
        if groove is None:  # without drums, the harmony carries the pulse
            pad_patterns = tuple(p for p in pad_patterns if p in ("arp8", "strum")) or ("arp8",)
        values: dict[str, Any] = {
            "seed": seed,
            "tempo_bpm": round(float(rng.uniform(*chosen.tempo)), 2),
            "key": pick(rng, PITCH_CLASSES),
            "mode": mode,
            "duration_s": round(float(rng.uniform(12.0, 20.0)), 2),
            "sample_rate": 44_100 if rng.random() < 0.3 else 22_050,
            "channels": 2 if rng.random() < 0.5 else 1,
            "target_lufs": round(float(rng.uniform(*chosen.loudness_lufs)), 2),
            "genre": chosen.name,
            "progression": pick(rng, PROGRESSIONS[mode]),
            "groove": groove,
            "kit": pick(rng, chosen.kits),
            "swing": round(float(rng.uniform(*chosen.swing)), 3),
            "fills": bool(rng.random() < 0.6),
            "intro_bars": int(rng.choice((0, 0, 1, 2))),
            "breakdown": bool(groove is not None and rng.random() < 0.25),
            "bass": pick(rng, chosen.basses),
            "bass_pattern": pick(rng, chosen.bass_patterns),
            "pad": pick(rng, chosen.pads),
            "pad_pattern": pick(rng, pad_patterns),
            "voicing": pick(rng, ("voice_led", "voice_led", "root", "open")),
            "sevenths": bool(rng.random() < chosen.sevenths_share),
            "lead": pick(rng, chosen.leads),
        }
        values.update(overrides)
        return cls(**values)


def arrangement(spec: GeneratedClip) -> Arrangement:
    bar_s = 240.0 / spec.tempo_bpm
    bars = math.ceil(spec.duration_s / bar_s) + 1
    breakdown = None
    if spec.breakdown and bars - spec.intro_bars >= 7:
        start = spec.intro_bars + (bars - spec.intro_bars) // 2
        breakdown = (start, start + 2)
    return Arrangement(
        tempo_bpm=spec.tempo_bpm,
        tonic=PITCH_CLASSES.index(spec.key),
        mode=spec.mode,
        progression=spec.progression,
        bars=bars,
        groove=spec.groove,
        swing=spec.swing,
        fills=spec.fills,
        intro_bars=spec.intro_bars,
        breakdown=breakdown,
        bass_pattern=spec.bass_pattern,
        pad_pattern=spec.pad_pattern,
        voicing=spec.voicing,
        sevenths=spec.sevenths,
        lead=spec.lead is not None,
        # Slow songs change chords more often per bar, so a clip still hears a whole progression.
        chord_beats=2 if spec.tempo_bpm < 96 else 4,
    )


def render_stems(spec: GeneratedClip) -> dict[str, np.ndarray]:
    """Each role (drums, bass, pad, lead) as mono float64 at full scale, before mixing."""
    rng = np.random.default_rng([spec.seed, 0x5EED])
    score = compose(arrangement(spec), rng)
    total = round(spec.duration_s * spec.sample_rate)
    stems = {"drums": _render_drums(score, spec, total, rng)}
    voices = {"bass": spec.bass, "pad": spec.pad, "lead": spec.lead}
    for role, voice_name in voices.items():
        if voice_name is not None and score.parts.get(role):
            stems[role] = _render_part(score.parts[role], voice_name, spec.sample_rate, total, rng)
    return stems


def _render_part(
    notes: list[Note], voice_name: str, sr: int, total: int, rng: np.random.Generator
) -> np.ndarray:
    voice = VOICES[voice_name]
    out = np.zeros(total)
    cache: dict[tuple[float, int], np.ndarray] = {}  # repeated notes render once
    for note in notes:
        start = round(note.start_s * sr)
        if start >= total:
            continue
        n = int((note.duration_s + voice.release_s) * sr)
        key = (note.pitch, n)
        if key not in cache:
            cache[key] = voice.render(midi_to_hz(note.pitch), n, sr, rng)
        tone = cache[key][: total - start]
        out[start : start + tone.size] += note.velocity * tone
    return out


def _render_drums(
    score: Score, spec: GeneratedClip, total: int, rng: np.random.Generator
) -> np.ndarray:
    out = np.zeros(total)
    if not score.hits:
        return out
    kit = DRUM_KITS[spec.kit]
    # Peak levels relative to the kick, as a mixing engineer would balance a kit.
    levels = {"kick": 1.0, "snare": 0.8, "hat": 0.3, "open_hat": 0.25, "crash": 0.25}
    samples: dict[str, np.ndarray] = {}
    for hit in score.hits:
        if hit.drum not in samples:
            sample = drum_sample(kit, hit.drum, spec.sample_rate, rng)
            samples[hit.drum] = sample * (levels.get(hit.drum, 0.7) / np.max(np.abs(sample)))
        start = round(hit.start_s * spec.sample_rate)
        if start >= total:
            continue
        sample = samples[hit.drum][: total - start]
        out[start : start + sample.size] += hit.velocity * sample
    return out


def render(spec: GeneratedClip) -> np.ndarray:
    """float32 samples, ``(n,)`` mono or ``(n, 2)`` stereo, at ``spec.target_lufs``."""
    stems = render_stems(spec)
    rng = np.random.default_rng([spec.seed, 0x313])
    total = round(spec.duration_s * spec.sample_rate)
    mix = np.zeros((total, spec.channels))
    for role, stem in stems.items():
        gain = 10 ** ((_ROLE_GAIN_DB[role] + rng.uniform(-2, 2)) / 20)
        if spec.channels == 1:
            mix[:, 0] += gain * stem
        else:  # constant-power pan
            angle = (_ROLE_PAN[role] * rng.choice((-1, 1)) + 1) * math.pi / 4
            mix[:, 0] += (gain * math.cos(angle)) * stem
            mix[:, 1] += (gain * math.sin(angle)) * stem
    _shape(mix, spec)
    mix = _normalise(mix, spec.sample_rate, spec.target_lufs)
    return (mix[:, 0] if spec.channels == 1 else mix).astype(np.float32)


def _shape(mix: np.ndarray, spec: GeneratedClip) -> None:
    """In place: a quiet intro rising to full level, short fades at both ends."""
    sr = spec.sample_rate
    if spec.intro_bars:
        intro = min(mix.shape[0], int(spec.intro_bars * 240.0 / spec.tempo_bpm * sr))
        quiet_db = -12.0 - 6.0 * (spec.seed % 3)
        mix[:intro] *= (10 ** (np.linspace(quiet_db, 0.0, intro) / 20))[:, None]
    fade_in, fade_out = min(mix.shape[0], int(0.01 * sr)), min(mix.shape[0], int(0.05 * sr))
    mix[:fade_in] *= np.linspace(0.0, 1.0, fade_in)[:, None]
    mix[mix.shape[0] - fade_out :] *= np.linspace(1.0, 0.0, fade_out)[:, None]


def _normalise(mix: np.ndarray, sr: int, target_lufs: float) -> np.ndarray:
    """Gain to the loudness target, with a peak limiter for hot masters (the truth is measured
    on the encoded file afterwards, so landing within a fraction of a LU is enough)."""
    loudness = measure_loudness(mix, sr).integrated_lufs
    if loudness is None:
        return mix
    mix *= 10 ** ((target_lufs - loudness) / 20)
    for _ in range(2):
        if float(np.max(np.abs(mix))) <= _PEAK_CEILING:
            break
        mix = _limit(mix, sr)
        loudness = measure_loudness(mix, sr).integrated_lufs or target_lufs
        mix *= 10 ** ((target_lufs - loudness) / 20)
    return np.clip(mix, -_PEAK_CEILING, _PEAK_CEILING, out=mix)


def _limit(mix: np.ndarray, sr: int) -> np.ndarray:
    """Peak limiter working on 5 ms blocks: each block's gain respects its neighbours' peaks,
    and gains are interpolated between block centres, so no sample ends above the ceiling."""
    block = max(8, int(0.005 * sr))
    count = -(-mix.shape[0] // block)
    padded = np.zeros((count * block, mix.shape[1]))
    padded[: mix.shape[0]] = mix
    peaks = np.abs(padded).reshape(count, -1).max(axis=1)
    spread = np.maximum(peaks, np.maximum(np.roll(peaks, 1), np.roll(peaks, -1)))
    gains = np.minimum(1.0, _PEAK_CEILING / np.maximum(spread, 1e-9))
    centres = (np.arange(count) + 0.5) * block
    gain = np.interp(np.arange(mix.shape[0]), centres, gains)
    return mix * gain[:, None]


# --- sets -------------------------------------------------------------------------------


def draw_set(
    count: int, seed: int, duration_s: tuple[float, float] = (12.0, 20.0)
) -> list[GeneratedClip]:
    """``count`` clips that cycle through all 24 keys and every genre in shuffled orders."""
    rng = np.random.default_rng([seed, 0x5E7])
    keys = [(k, m) for k in PITCH_CLASSES for m in ("major", "minor")]
    genres = list(GENRES)
    specs = []
    for index in range(count):
        if index % len(keys) == 0:
            key_order = rng.permutation(len(keys))
        if index % len(genres) == 0:
            genre_order = rng.permutation(len(genres))
        key, mode = keys[int(key_order[index % len(keys)])]
        genre = genres[int(genre_order[index % len(genres)])]
        clip_seed = int(rng.integers(2**31))
        draw = GeneratedClip.draw(clip_seed, genre, key=key, mode=mode)
        duration = round(float(rng.uniform(*duration_s)), 2)
        specs.append(replace(draw, duration_s=duration))
    return specs


def write_clip(spec: GeneratedClip, directory: Path, name: str, fmt: str) -> GroundTruth:
    """Render, encode as ``fmt`` and write the sidecar; loudness is measured on the decoded file."""
    path = Path(directory) / f"{name}.{fmt}"
    ground_truth.encode(path, render(spec), spec.sample_rate)
    loudness, duration = ground_truth.measure_file(path)
    details = {
        k: v for k, v in spec.__dict__.items() if k not in ("seed", "tempo_bpm", "key", "mode")
    }
    truth = GroundTruth(
        file=path.name,
        source="synthetic",
        tempo_bpm=spec.tempo_bpm,
        key=spec.key,
        mode=spec.mode,
        loudness_lufs=loudness,
        duration_s=round(duration, 3),
        instrumentation=spec.instrumentation,
        seed=spec.seed,
        details={**details, "format": fmt, "generator_version": GENERATOR_VERSION},
        directory=Path(directory),
    )
    truth.write()
    return truth


def _write_task(args: tuple[GeneratedClip, Path, str, str]) -> GroundTruth:
    return write_clip(*args)


def generate_set(
    directory: Path | str,
    count: int,
    seed: int = 0,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    duration_s: tuple[float, float] = (12.0, 20.0),
    workers: int = 1,
) -> list[GroundTruth]:
    """Write ``count`` clips (formats in turn) with sidecars into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        if fmt not in ground_truth.FORMATS:
            raise ValueError(f"unknown format {fmt!r}; known: {sorted(ground_truth.FORMATS)}")
    tasks = [
        (spec, directory, f"synthetic-{index:04d}", formats[index % len(formats)])
        for index, spec in enumerate(draw_set(count, seed, duration_s))
    ]
    if workers <= 1:
        return [_write_task(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_write_task, tasks, chunksize=4))


# --- demo catalog ------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogTrack:
    artist: str
    album: str
    title: str
    track_number: int
    genres: tuple[str, ...]  # (parent genre, genre)
    clip: GeneratedClip


def catalog(
    artists: int = 24,
    albums_per_artist: int = 2,
    tracks_per_album: int = 5,
    seed: int = 7,
    duration_s: tuple[float, float] = (8.0, 14.0),
) -> list[CatalogTrack]:
    """A deterministic demo catalog: artists play in their genre with their own signature sound."""
    rng = np.random.default_rng([seed, 0xCA7])
    tracks: list[CatalogTrack] = []
    for artist in draw_artists(artists, rng):
        genre = artist.genre
        for album_index in range(albums_per_artist):
            album = title_words(rng, 2)
            for number in range(1, tracks_per_album + 1):
                title = f"{title_words(rng, int(rng.integers(1, 4)))} {album_index + 1}.{number}"
                low, high = genre.tempo
                tempo = float(np.clip(artist.tempo_center + rng.uniform(-6, 6), low, high))
                mode = "minor" if rng.random() < artist.minor_share else "major"
                clip = GeneratedClip.draw(
                    seed * 100_000 + len(tracks),
                    genre,
                    tempo_bpm=round(tempo, 2),
                    mode=mode,
                    duration_s=round(float(rng.uniform(*duration_s)), 2),
                    sample_rate=22_050,
                    kit=artist.kit,
                    bass=artist.bass,
                    pad=artist.pad,
                    lead=artist.lead,
                )
                if clip.groove is None and clip.pad_pattern not in ("arp8", "strum"):
                    clip = replace(clip, pad_pattern="arp8")
                tracks.append(
                    CatalogTrack(
                        artist.name, album, title, number, (genre.parent, genre.name), clip
                    )
                )
    return tracks
