"""Textures of the MIDI evaluation pieces: chorales, legato strings, arpeggios, a band.

Events are placed in beats on General MIDI channels (harmony 0, bass 1, melody 2,
drums 9) of a ``Tracks`` collection, which becomes a type-1 MIDI file with the
tempo map on its first track.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido
import numpy as np

from audotics.ml.audio.patterns import voice_chord

TICKS_PER_BEAT = 480
HARMONY, BASS, MELODY, DRUMS = 0, 1, 2, 9  # channel 10 is GM percussion
_KICK, _SIDE_STICK, _SNARE, _HAT, _OPEN_HAT, _CRASH, _RIDE = 36, 37, 38, 42, 46, 49, 51
_TOM_HIGH, _TOM_LOW = 48, 45

# GM programs (0-based) by name, for the sidecar's instrumentation.
PROGRAMS = {
    "acoustic_grand_piano": 0, "electric_piano": 4, "harpsichord": 6, "vibraphone": 11,
    "rock_organ": 18, "church_organ": 19, "nylon_guitar": 24, "steel_guitar": 25,
    "clean_guitar": 27, "overdriven_guitar": 29, "acoustic_bass": 32, "finger_bass": 33,
    "pick_bass": 34, "violin": 40, "cello": 42, "contrabass": 43, "harp": 46,
    "string_ensemble": 48, "slow_strings": 49, "choir_aahs": 52, "voice_oohs": 53,
    "trumpet": 56, "french_horn": 60, "alto_sax": 65, "oboe": 68, "clarinet": 71,
    "flute": 73, "square_lead": 80,
}  # fmt: skip

# Melody rhythms for one 4/4 bar: (beat, length).
_MELODY_RHYTHMS = (
    ((0, 1), (1, 1), (2, 1), (3, 1)),
    ((0, 1.5), (1.5, 0.5), (2, 2)),
    ((0, 0.5), (0.5, 0.5), (1, 1), (2, 0.5), (2.5, 0.5), (3, 1)),
    ((0, 2), (2, 1), (3, 1)),
    ((0, 1), (1, 0.5), (1.5, 0.5), (2, 1.5), (3.5, 0.5)),
)


@dataclass(frozen=True)
class Style:
    name: str
    tempo: tuple[float, float]
    harmony: tuple[str, ...]  # program names, one drawn per piece
    bass: tuple[str, ...]
    melody: tuple[str | None, ...]
    texture: str  # chorale | legato | arpeggio | band
    drums: bool


@dataclass(frozen=True)
class Harmony:
    """Chord tones (semitones above the tonic), changing every ``chord_beats``."""

    tonic: int
    scale: tuple[int, ...]
    chords: list[tuple[int, ...]]
    chord_beats: int
    bars: int
    intro_bars: int

    def chord(self, beat: float) -> tuple[int, ...]:
        return self.chords[int(beat // self.chord_beats) % len(self.chords)]

    def spans(self) -> list[tuple[float, tuple[int, ...]]]:
        return [(b, self.chord(b)) for b in range(0, self.bars * 4, self.chord_beats)]


class Tracks:
    """Note events in beats, per channel, written out as a type-1 MIDI file."""

    def __init__(self) -> None:
        self.events: dict[int, list[tuple[float, int, mido.Message]]] = {}
        self.programs: dict[int, int] = {}

    def program(self, channel: int, name: str) -> str:
        self.programs[channel] = PROGRAMS[name]
        return name

    def note(self, channel: int, beat: float, length: float, pitch: int, velocity: float) -> None:
        level = int(np.clip(round(velocity), 1, 127))
        items = self.events.setdefault(channel, [])
        # Offs sort before ons at the same tick, so a repeated note strikes again.
        items.append(
            (beat, 1, mido.Message("note_on", channel=channel, note=int(pitch), velocity=level))
        )
        off = mido.Message("note_off", channel=channel, note=int(pitch), velocity=0)
        items.append((beat + max(length, 0.05), 0, off))

    def control(self, channel: int, beat: float, number: int, value: int) -> None:
        message = mido.Message("control_change", channel=channel, control=number, value=value)
        self.events.setdefault(channel, []).append((beat, 0, message))

    def to_midi(self, tempo_per_beat: list[int]) -> mido.MidiFile:
        """``tempo_per_beat`` in microseconds per quarter note, one per beat of the piece."""
        midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
        conductor = mido.MidiTrack()
        conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
        last_tick, previous = 0, None
        for index, tempo in enumerate(tempo_per_beat):
            if tempo != previous:
                tick = index * TICKS_PER_BEAT
                conductor.append(mido.MetaMessage("set_tempo", tempo=tempo, time=tick - last_tick))
                last_tick, previous = tick, tempo
        midi.tracks.append(conductor)
        for channel in sorted(self.events):
            track = mido.MidiTrack()
            if channel in self.programs:
                program = self.programs[channel]
                track.append(mido.Message("program_change", channel=channel, program=program))
            now = 0
            for beat, _, message in sorted(self.events[channel], key=lambda e: (e[0], e[1])):
                tick = round(beat * TICKS_PER_BEAT)
                track.append(message.copy(time=tick - now))
                now = tick
            midi.tracks.append(track)
        return midi


def _nearest(pitch_class: int, center: int) -> int:
    return center + ((pitch_class - center + 6) % 12) - 6


def _scale_step(pitch: int, direction: int, h: Harmony) -> int:
    candidate = pitch + direction
    while (candidate - h.tonic) % 12 not in h.scale:
        candidate += direction
    return candidate


def melody(
    tracks: Tracks, channel: int, h: Harmony, rng: np.random.Generator, center: int, velocity: float
) -> None:
    """A tune: chord tones on beats 1 and 3, scale steps between, phrases ending on the tonic."""
    center = _nearest(h.tonic, center)
    pitch = center
    motifs = [_MELODY_RHYTHMS[int(rng.integers(len(_MELODY_RHYTHMS)))] for _ in range(2)]
    for bar in range(h.intro_bars, h.bars):
        phrase_bar = (bar - h.intro_bars) % 4
        rhythm = motifs[phrase_bar % 2]
        closing = phrase_bar == 3 or bar == h.bars - 1
        if closing:
            rhythm = ((0, 1), (1, 1), (2, 2))
        for index, (beat, length) in enumerate(rhythm):
            at = bar * 4 + beat
            tones = h.chord(at)
            if closing and index == len(rhythm) - 1:
                pitch = center if pitch < center + 6 else center + 12
            elif beat in (0, 2):
                pitch = _nearest((h.tonic + tones[int(rng.integers(len(tones)))]) % 12, pitch)
            else:
                pitch = _scale_step(pitch, int(rng.choice((-1, 1))), h)
            pitch = int(np.clip(pitch, center - 5, center + 12))
            accent = 8 if beat == 0 else 0
            tracks.note(channel, at, length * 0.95, pitch, velocity + accent + rng.normal(0, 4))


def _voicings(h: Harmony, style: str = "voice_led") -> list[tuple[float, list[int]]]:
    previous = None
    out = []
    for beat, tones in h.spans():
        previous = voice_chord(tones, h.tonic, previous, style)
        out.append((beat, previous))
    return out


def _bass_root(h: Harmony, tones: tuple[int, ...], center: int = 40) -> int:
    return _nearest((h.tonic + tones[0]) % 12, center)


def chorale(tracks: Tracks, h: Harmony, rng: np.random.Generator, restrike_beats: float) -> None:
    """Four-part harmony: voices re-struck every ``restrike_beats``, bass on the chord roots."""
    for beat, voiced in _voicings(h):
        root = _bass_root(h, h.chord(beat), 45)
        for strike in np.arange(beat, beat + h.chord_beats, restrike_beats):
            length = restrike_beats * 0.92
            tracks.note(BASS, strike, length, root - 12 if root > 50 else root, 82)
            for pitch in voiced:
                tracks.note(HARMONY, strike, length, pitch, 72 + rng.normal(0, 3))


def legato(tracks: Tracks, h: Harmony, rng: np.random.Generator) -> None:
    """Sustained chords overlapping slightly, a bass moving in half notes on root and fifth."""
    for beat, voiced in _voicings(h):
        for pitch in voiced:
            tracks.note(HARMONY, beat, h.chord_beats + 0.1, pitch, 70 + rng.normal(0, 3))
        root = _bass_root(h, h.chord(beat))
        for offset in range(0, h.chord_beats, 2):
            tracks.note(BASS, beat + offset, 1.9, root + (7 if offset % 4 == 2 else 0) - 12, 80)


def arpeggio(tracks: Tracks, h: Harmony, rng: np.random.Generator, fast: bool) -> None:
    """Broken chords in eighths (sixteenths for slow pieces), Alberti or rising figures."""
    step = 0.25 if fast else 0.5
    alberti = rng.random() < 0.5
    for beat, voiced in _voicings(h, "root"):
        root = _bass_root(h, h.chord(beat))
        tracks.note(BASS, beat, h.chord_beats * 0.95, root, 78)
        figure = (
            [voiced[0], voiced[2], voiced[1], voiced[2]] if alberti else [*voiced, voiced[0] + 12]
        )
        for index, at in enumerate(np.arange(beat, beat + h.chord_beats, step)):
            accent = 10 if index % int(1 / step) == 0 else 0
            tracks.note(
                HARMONY, at, step * 1.6, figure[index % len(figure)], 62 + accent + rng.normal(0, 3)
            )


def band(tracks: Tracks, h: Harmony, rng: np.random.Generator, ballad: bool) -> None:
    """Drums (GM kit), bass in eighths or quarters, comping chords on a syncopated grid."""
    comp = (
        ((0, 1.0), (1.5, 0.5), (2, 1.0), (3, 0.5), (3.5, 0.5))
        if not ballad
        else ((0, 2.0), (2, 2.0))
    )
    for beat, voiced in _voicings(h):
        root = _bass_root(h, h.chord(beat))
        if beat >= h.intro_bars * 4:
            bass_step = 1.0 if ballad else 0.5
            for index, at in enumerate(np.arange(beat, beat + h.chord_beats, bass_step)):
                pitch = root + (7 if ballad and index % 4 == 2 else 0)
                tracks.note(BASS, at, bass_step * 0.85, pitch, 88 if index % 2 == 0 else 76)
        for bar_beat in range(int(beat), int(beat) + h.chord_beats, 4):
            for offset, length in comp:
                if bar_beat + offset >= beat + h.chord_beats:
                    continue
                for index, pitch in enumerate(voiced):
                    at = bar_beat + offset + 0.02 * index  # a strum, low strings first
                    tracks.note(HARMONY, at, length * 0.9, pitch, 68 + rng.normal(0, 4))
    for bar in range(h.intro_bars, h.bars):
        start = bar * 4
        fill = (bar - h.intro_bars) % 4 == 3 and bar < h.bars - 1
        if (bar - h.intro_bars) % 4 == 0:
            tracks.note(DRUMS, start, 1.0, _CRASH, 100)
        tracks.note(DRUMS, start, 0.5, _KICK, 110)
        tracks.note(DRUMS, start + 2, 0.5, _KICK, 100)
        if not ballad:
            tracks.note(DRUMS, start + 2.5, 0.5, _KICK, 90)
        backbeat = _SIDE_STICK if ballad else _SNARE
        for beat in (1, 3):
            if not (fill and beat == 3):
                tracks.note(DRUMS, start + beat, 0.5, backbeat, 105)
        cymbal = _RIDE if ballad else _HAT
        for index, at in enumerate(np.arange(start, start + (3 if fill else 4), 0.5)):
            tracks.note(DRUMS, at, 0.25, cymbal, 80 if index % 2 == 0 else 60)
        if fill:
            for index, at in enumerate(np.arange(start + 3, start + 4, 0.25)):
                tracks.note(
                    DRUMS, at, 0.25, (_SNARE, _SNARE, _TOM_HIGH, _TOM_LOW)[index], 90 + 5 * index
                )


def write_texture(
    tracks: Tracks, style: Style, rng: np.random.Generator, h: Harmony, bpm: float
) -> list[str]:
    """Fill ``tracks`` for ``style``; returns the instrumentation (GM names)."""
    names = [
        tracks.program(HARMONY, style.harmony[int(rng.integers(len(style.harmony)))]),
        tracks.program(BASS, style.bass[int(rng.integers(len(style.bass)))]),
    ]
    lead = style.melody[int(rng.integers(len(style.melody)))]
    if style.texture == "chorale":
        # Without a tune moving in quarters, the chords must: otherwise nothing in the
        # audio would tell this piece from one at half the tempo.
        chorale(tracks, h, rng, restrike_beats=2.0 if lead is not None else 1.0)
    elif style.texture == "legato":
        legato(tracks, h, rng)
    elif style.texture == "arpeggio":
        arpeggio(tracks, h, rng, fast=bpm < 90)
    else:
        band(tracks, h, rng, ballad=style.name == "ballad")
        names.append("gm_drums")
    if lead is not None:
        names.append(tracks.program(MELODY, lead))
        melody(tracks, MELODY, h, rng, center=72 if lead != "french_horn" else 62, velocity=88)
    return list(dict.fromkeys(names))
