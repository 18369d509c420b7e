"""Music for the ground-truth generator: scales, chord progressions, voicings, grooves, lines.

``compose`` turns a clip description into a score of timed notes and drum hits.
The key is established the way songs establish it: bass on chord roots, the tonic
chord present in every progression, a dominant in most, melodies that lean on
chord tones and close phrases on the tonic. Minor keys use the harmonic minor's
major V where a progression says ``V``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
STEPS_PER_BAR = 16  # sixteenth notes in a 4/4 bar

# Roman numeral -> (root in semitones above the tonic, triad intervals).
_NUMERALS = {
    "I": (0, (0, 4, 7)),
    "i": (0, (0, 3, 7)),
    "ii": (2, (0, 3, 7)),
    "ii°": (2, (0, 3, 6)),
    "iii": (4, (0, 3, 7)),
    "III": (3, (0, 4, 7)),
    "IV": (5, (0, 4, 7)),
    "iv": (5, (0, 3, 7)),
    "V": (7, (0, 4, 7)),
    "v": (7, (0, 3, 7)),
    "vi": (9, (0, 3, 7)),
    "VI": (8, (0, 4, 7)),
    "VII": (10, (0, 4, 7)),
}

# Several start away from the tonic; all contain it and most a dominant. Loops that are
# ambiguous on their own (I-V-vi-IV is also vi-iii-IV-I... of the relative minor) are
# followed by a cadence, as a verse leads into a chorus, so the key is the one a
# musician would name.
PROGRESSIONS = {
    "major": (
        "I-V-vi-IV-I-IV-V-I",
        "I-IV-V-I",
        "I-vi-IV-V-I-IV-V-I",
        "I-IV-I-V",
        "IV-V-I-I",
        "ii-V-I-I",
        "I-iii-IV-V",
        "IV-I-V-I",
        "vi-IV-V-I-IV-I-V-I",
    ),
    "minor": (
        "i-VI-III-VII-i-iv-V-i",
        "i-iv-V-i",
        "i-VII-VI-V-i-iv-V-i",
        "iv-V-i-i",
        "VI-VII-i-i-iv-V-i-i",
        "i-VI-iv-V",
        "i-v-iv-i",
        "i-iv-i-V",
        "i-VI-V-i",
        "VI-iv-V-i",
    ),
}

# Drum grooves on a 16-step grid; X accent, x normal, o ghost.
GROOVES: dict[str, dict[str, str]] = {
    "rock": {"kick": "x.......x.x.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
    "four_on_floor": {
        "kick": "X...X...X...X...",
        "snare": "....x.......x...",
        "hat": "x.o.x.o.x.o.x.o.",
        "open_hat": "..x...x...x...x.",
    },
    "hiphop": {"kick": "X......x..x.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x."},
    "breakbeat": {
        "kick": "X.........x.....",
        "snare": "....X.......X...",
        "hat": "x.x.x.x.x.x.x.x.",
    },
    "funk": {"kick": "X..x..x...x.....", "snare": "....X..o.o..X..o", "hat": "xoxoxoxoxoxoxoxo"},
    "shuffle": {"kick": "x.......x.......", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
    "disco": {
        "kick": "X...X...X...X...",
        "snare": "....X.......X...",
        "hat": "xox.xox.xox.xox.",
        "open_hat": "..x...x...x...x.",
    },
}

# Bass rhythms: (step, length in steps, chord-tone: 0 root, 1 fifth, 2 octave).
BASS_PATTERNS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "whole": ((0, 16, 0),),
    "halves": ((0, 8, 0), (8, 8, 1)),
    "quarters": ((0, 4, 0), (4, 4, 0), (8, 4, 1), (12, 4, 0)),
    "eighths": tuple((s, 2, 0) for s in range(0, 16, 2)),
    "offbeat": ((2, 2, 0), (6, 2, 0), (10, 2, 2), (14, 2, 0)),
    "syncopated": ((0, 3, 0), (3, 3, 0), (6, 2, 2), (10, 2, 1), (12, 4, 0)),
    "walking": ((0, 4, 0), (4, 4, 3), (8, 4, 1), (12, 4, 4)),  # 3: third, 4: approach
}
PAD_PATTERNS = ("sustain", "stabs", "arp8", "arp16", "strum", "comp")

# Lead rhythms for one bar: (step, length).
_LEAD_RHYTHMS = (
    ((0, 4), (4, 4), (8, 4), (12, 4)),
    ((0, 2), (2, 2), (4, 4), (8, 2), (10, 2), (12, 4)),
    ((0, 6), (6, 2), (8, 8)),
    ((0, 3), (3, 3), (6, 2), (8, 4), (12, 4)),
    ((0, 8), (8, 8)),
    ((0, 2), (2, 2), (4, 2), (6, 2), (8, 4), (12, 4)),
    ((2, 2), (4, 4), (8, 2), (10, 6)),
)


# One bar of a melody: given the chord at each step, (step, length, pitch) of its notes.
LineWriter = Callable[[Callable[[float], tuple[int, ...]]], list[tuple[int, int, float]]]


@dataclass(frozen=True)
class Note:
    start_s: float
    duration_s: float
    pitch: float  # MIDI note number
    velocity: float  # 0..1


@dataclass(frozen=True)
class Hit:
    start_s: float
    drum: str
    velocity: float


@dataclass(frozen=True)
class Arrangement:
    """What ``compose`` needs; the generator's clip spec maps onto it."""

    tempo_bpm: float
    tonic: int  # pitch class 0..11
    mode: str
    progression: str
    bars: int
    groove: str | None  # None: no drums at all
    swing: float = 0.5  # fraction of the beat taken by the first eighth (0.5 = straight)
    fills: bool = True
    intro_bars: int = 0  # pad only
    breakdown: tuple[int, int] | None = None  # bars [start, end) without drums
    bass_pattern: str = "halves"
    pad_pattern: str = "sustain"
    voicing: str = "voice_led"  # voice_led | root | open
    sevenths: bool = False
    lead: bool = True
    chord_beats: int = 4  # harmonic rhythm: 4 = a chord per bar, 2 = two per bar
    humanize_s: float = 0.004


@dataclass
class Score:
    parts: dict[str, list[Note]] = field(default_factory=dict)  # bass, pad, lead
    hits: list[Hit] = field(default_factory=list)


def chord_pitch_classes(numeral: str, mode: str, seventh: bool) -> tuple[int, ...]:
    """Semitones above the tonic of a chord's tones (root first)."""
    root, triad = _NUMERALS[numeral]
    tones = [root + interval for interval in triad]
    if seventh:
        scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
        tones.append(root + (10 if (root + 10) % 12 in scale else 11))
    return tuple(tones)


def scale_of(mode: str) -> tuple[int, ...]:
    return MAJOR_SCALE if mode == "major" else MINOR_SCALE


class _Clock:
    """Maps (bar, sixteenth step) to seconds, with swing on the off-beat eighths."""

    def __init__(self, tempo_bpm: float, swing: float) -> None:
        self.beat = 60.0 / tempo_bpm
        self.swing = swing

    def time(self, bar: int, step: float) -> float:
        beat, within = divmod(step, 4)
        # Piecewise-linear warp of the beat: the off-beat eighth lands at `swing` of it.
        pos = within / 4
        warped = (
            pos * 2 * self.swing if pos <= 0.5 else self.swing + (pos - 0.5) * 2 * (1 - self.swing)
        )
        return (bar * 4 + beat + warped) * self.beat


def voice_chord(
    tones: tuple[int, ...], tonic: int, previous: list[int] | None, style: str
) -> list[int]:
    """MIDI pitches for a chord around C4; voice-led voicings move the least from the last one."""
    base = 48 + tonic  # the tonic in the third octave
    root_position = [base + t for t in tones]
    while root_position[0] < 52:
        root_position = [p + 12 for p in root_position]
    while root_position[0] > 63:
        root_position = [p - 12 for p in root_position]
    if style == "root" or previous is None:
        return root_position
    if style == "open":
        spread = [root_position[0] - 12, root_position[0], *root_position[1:]]
        spread[2] += 12  # drop-2 style: the third on top
        return sorted(spread)
    candidates = []
    for inversion in range(len(tones)):
        voiced = root_position[inversion:] + [p + 12 for p in root_position[:inversion]]
        for shift in (-12, 0, 12):
            candidate = [p + shift for p in voiced]
            if 50 <= candidate[0] <= 67:
                candidates.append(candidate)
    return min(candidates, key=lambda c: sum(abs(a - b) for a, b in zip(c, previous, strict=False)))


def _nearest(pitch_class: int, center: int) -> int:
    return center + ((pitch_class - center + 6) % 12) - 6


def compose(arrangement: Arrangement, rng: np.random.Generator) -> Score:
    a = arrangement
    clock = _Clock(a.tempo_bpm, a.swing)
    chords = [chord_pitch_classes(n, a.mode, a.sevenths) for n in a.progression.split("-")]
    span = 4 * a.chord_beats  # sixteenths per chord

    def chord_at(bar: int, step: float) -> int:
        return int((bar * STEPS_PER_BAR + step) // span) % len(chords)

    def chord_in_bar(bar: int, step: float) -> tuple[int, ...]:
        return chords[chord_at(bar, step)]

    score = Score(parts={"bass": [], "pad": [], "lead": []})
    bass_center = 33 + ((a.tonic - 9) % 12)  # roots between A1 and G#2
    previous: list[int] | None = None
    motif = _lead_motif(a, rng)

    def jitter() -> float:
        return float(rng.normal(0.0, a.humanize_s)) if a.humanize_s > 0 else 0.0

    def add(part: str, bar: int, step: float, length: float, pitch: float, velocity: float) -> None:
        start = clock.time(bar, step)
        duration = clock.time(bar, step + length) - start
        score.parts[part].append(Note(max(0.0, start + jitter()), duration, pitch, velocity))

    for bar in range(a.bars):
        for segment in range(0, STEPS_PER_BAR, span):
            voiced = voice_chord(chords[chord_at(bar, segment)], a.tonic, previous, a.voicing)
            previous = voiced
            for step, length, pitch, velocity in _pad_events(voiced, a.pad_pattern, segment, span):
                add("pad", bar, step, length, pitch, velocity * (0.9 + 0.1 * rng.random()))
        if bar < a.intro_bars:
            continue
        for step, length, degree in BASS_PATTERNS[a.bass_pattern]:
            tones = chords[chord_at(bar, step)]
            root = _nearest((a.tonic + tones[0]) % 12, bass_center)
            following = chords[chord_at(bar, step + length)]
            if degree == 4:  # an approach note: a scale step into the next root
                target = _nearest((a.tonic + following[0]) % 12, root)
                pitch = _scale_step(target, 1 if target < root else -1, a.tonic, scale_of(a.mode))
            else:
                pitch = root + (0, 7, 12, tones[1] - tones[0])[degree]
            add("bass", bar, step, 0.9 * length, pitch, 0.85 + 0.15 * rng.random())
        if a.lead:
            line = motif[(bar - a.intro_bars) % len(motif)]
            for note_step, note_length, note_pitch in line(partial(chord_in_bar, bar)):
                add(
                    "lead", bar, note_step, 0.85 * note_length, note_pitch, 0.7 + 0.3 * rng.random()
                )
    if a.groove is not None:
        score.hits = _drums(a, clock, rng, jitter)
    return score


def _pad_events(
    voiced: list[int], pattern: str, start: int, span: int
) -> list[tuple[float, float, int, float]]:
    """(step, length, pitch, velocity) of the harmony part within one chord's span."""
    steps = range(start, start + span)
    if pattern == "sustain":
        return [(start, span, pitch, 0.8) for pitch in voiced]
    if pattern == "stabs":
        return [(s, 1.5, pitch, 0.8) for s in steps if s % 4 == 2 for pitch in voiced]
    if pattern in ("arp8", "arp16"):
        size = 2 if pattern == "arp8" else 1
        order = [*voiced, voiced[0] + 12, *voiced[1:][::-1]]
        return [
            (s, size * 1.5, order[i % len(order)], 0.75 if s % 4 else 0.9)
            for i, s in enumerate(range(start, start + span, size))
        ]
    if pattern == "strum":  # a chord on every half bar, strings a few ms apart
        return [
            (s + 0.05 * i, 7.5, pitch, 0.85)
            for s in steps
            if s % 8 == 0
            for i, pitch in enumerate(voiced)
        ]
    comp = ((0, 3), (6, 2), (10, 4))  # comp: syncopated chords
    return [(s, length, pitch, 0.8) for s, length in comp if s in steps for pitch in voiced]


def _lead_motif(a: Arrangement, rng: np.random.Generator) -> list[LineWriter]:
    """A two-bar idea repeated with a varied second half: one generator per bar of a 4-bar phrase.

    Strong beats take chord tones, other notes move by scale steps, and the phrase
    closes on the tonic, as tonal melodies do.
    """
    scale = scale_of(a.mode)
    center = 64 + ((a.tonic - 4) % 12)  # the tonic between E4 and D#5
    rhythms = [_LEAD_RHYTHMS[int(rng.integers(len(_LEAD_RHYTHMS)))] for _ in range(2)]
    contour = rng.integers(-2, 3, size=16)

    def bar_line(index: int, closing: bool) -> LineWriter:
        def line(tones_at: Callable[[float], tuple[int, ...]]) -> list[tuple[int, int, float]]:
            rhythm = rhythms[index % 2]
            out = []
            pitch = _nearest((a.tonic + tones_at(0)[0]) % 12, center)
            for position, (step, length) in enumerate(rhythm):
                tones = tones_at(step)
                if closing and position == len(rhythm) - 1:
                    pitch = center if pitch < center + 6 else center + 12
                elif step % 4 == 0:
                    pitch = _nearest(
                        (a.tonic + tones[int(contour[position]) % len(tones)]) % 12, pitch
                    )
                else:
                    pitch = _scale_step(pitch, int(np.sign(contour[position])) or 1, a.tonic, scale)
                pitch = int(np.clip(pitch, center - 7, center + 12))
                out.append((step, length, float(pitch)))
            return out

        return line

    return [bar_line(0, False), bar_line(1, False), bar_line(0, False), bar_line(1, True)]


def _scale_step(pitch: int, direction: int, tonic: int, scale: tuple[int, ...]) -> int:
    candidate = pitch + direction
    while (candidate - tonic) % 12 not in scale:
        candidate += direction
    return candidate


def _drums(
    a: Arrangement, clock: _Clock, rng: np.random.Generator, jitter: Callable[[], float]
) -> list[Hit]:
    assert a.groove is not None
    groove = GROOVES[a.groove]
    velocities = {"X": 1.0, "x": 0.8, "o": 0.35}
    hits: list[Hit] = []
    for bar in range(a.intro_bars, a.bars):
        if a.breakdown is not None and a.breakdown[0] <= bar < a.breakdown[1]:
            continue
        fill = a.fills and (bar - a.intro_bars) % 4 == 3 and bar < a.bars - 1
        if bar == a.intro_bars or (a.fills and (bar - a.intro_bars) % 4 == 0):
            hits.append(Hit(clock.time(bar, 0), "crash", 0.7))
        for drum, grid in groove.items():
            for step, mark in enumerate(grid):
                if mark == "." or (fill and step >= 12):
                    continue
                velocity = velocities[mark] * (0.9 + 0.1 * rng.random())
                hits.append(Hit(max(0.0, clock.time(bar, step) + jitter()), drum, velocity))
        if fill:
            toms = ("snare", "snare", "tom_high", "tom_high", "tom_low", "tom_low")
            for index, step in enumerate(range(12, 16)):
                drum = toms[int(rng.integers(len(toms)))] if index else "snare"
                hits.append(Hit(clock.time(bar, step), drum, 0.6 + 0.1 * index))
            hits.append(Hit(clock.time(bar, 12), "kick", 0.9))
    return hits
