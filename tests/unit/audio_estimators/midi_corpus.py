"""Development corpus of "real music": MIDI pieces rendered through a General MIDI soundfont.

Not a test: the estimators' harness (``harness.py``) renders these with Debian's
``fluidsynth`` + ``fluid-soundfont-gm`` to check that tempo and key estimation hold
beyond the project's own synthesiser: legato pieces without drums, organ, strings,
choir, piano and band timbres, tempo drifts of a few percent, quiet openings, and
minor keys written with the harmonic minor's leading tone. Ground truth is the
quarter-note tempo (time-weighted mean over the piece) and the key the piece is
written in.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TICKS = 480
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
NATURAL_MINOR = (0, 2, 3, 5, 7, 8, 10)

# Chords as (root semitones above the tonic, quality) ; qualities give the triad intervals.
QUALITY = {"M": (0, 4, 7), "m": (0, 3, 7), "d": (0, 3, 6), "7": (0, 4, 7, 10)}
MAJOR_PROGRESSIONS = (
    ((0, "M"), (5, "M"), (7, "7"), (0, "M")),
    ((0, "M"), (9, "m"), (5, "M"), (7, "M")),
    ((0, "M"), (7, "M"), (9, "m"), (5, "M")),
    ((0, "M"), (2, "m"), (7, "7"), (0, "M")),
    ((0, "M"), (4, "m"), (5, "M"), (7, "7")),
)
MINOR_PROGRESSIONS = (
    ((0, "m"), (5, "m"), (7, "7"), (0, "m")),
    ((0, "m"), (8, "M"), (5, "m"), (7, "M")),
    ((0, "m"), (10, "M"), (8, "M"), (7, "M")),
    ((0, "m"), (2, "d"), (7, "7"), (0, "m")),
    ((0, "m"), (8, "M"), (3, "M"), (10, "M")),  # natural minor, pop style
)
# (name, chord program, melody program, bass program, drums)
STYLES = (
    ("organ", 19, 19, 19, False),
    ("strings", 48, 40, 42, False),
    ("choir", 52, 52, 52, False),
    ("piano", 0, 0, 0, False),
    ("piano_arpeggio", 0, 0, 0, False),
    ("band", 4, 81, 33, True),
    ("band_guitar", 25, 65, 34, True),
)


@dataclass(frozen=True)
class Piece:
    name: str
    tempo_bpm: float  # time-weighted mean quarter-note tempo
    key: str
    mode: str
    style: str


def _tempo_map(bpm: float, bars: int, drift: str) -> list[float]:
    """Tempo per beat."""
    beats = bars * 4
    if drift == "ramp_up":
        return list(np.linspace(bpm * 0.97, bpm * 1.03, beats))
    if drift == "ramp_down":
        return list(np.linspace(bpm * 1.03, bpm * 0.97, beats))
    if drift == "step":
        return [bpm * (0.98 if b < beats // 2 else 1.02) for b in range(beats)]
    return [bpm] * beats


def compose(seed: int) -> tuple[mido.MidiFile, Piece]:
    rng = np.random.default_rng(seed)
    tonic_pc = int(rng.integers(12))
    mode = "major" if rng.random() < 0.5 else "minor"
    style, chord_prog, melody_prog, bass_prog, drums = STYLES[int(rng.integers(len(STYLES)))]
    bpm = float(np.exp(rng.uniform(np.log(60), np.log(180))))
    drift = str(rng.choice(["none", "none", "ramp_up", "ramp_down", "step"]))
    quiet_start = rng.random() < 0.35
    progressions = MAJOR_PROGRESSIONS if mode == "major" else MINOR_PROGRESSIONS
    progression = progressions[int(rng.integers(len(progressions)))]
    natural = progression is MINOR_PROGRESSIONS[-1]
    scale = MAJOR_SCALE if mode == "major" else (NATURAL_MINOR if natural else HARMONIC_MINOR)
    beats_per_chord = int(rng.choice([2, 4])) if style != "band" else 4
    bars = max(8, round(30 * bpm / 60 / 4))
    tempos = _tempo_map(bpm, bars, drift)
    mean_bpm = float(len(tempos) / np.sum(60.0 / np.asarray(tempos)) * 60.0)

    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)

    def note(channel: int, pitch: int, start: float, length: float, velocity: int) -> None:
        t0 = int(start * TICKS)
        t1 = int((start + length) * TICKS)
        events.append(
            (t0, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        )
        events.append((t1, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))

    def level(beat: float) -> float:
        if not quiet_start:
            return 1.0
        return float(min(1.0, 0.15 + 0.85 * beat / 16.0))

    base = 48 + tonic_pc if tonic_pc < 6 else 36 + tonic_pc
    total_beats = bars * 4
    legato = style in ("organ", "strings", "choir")
    melody_pitch = base + 24 + scale[int(rng.integers(3)) * 2]
    for beat in np.arange(0, total_beats, beats_per_chord):
        index = int(beat // beats_per_chord) % len(progression)
        if beat + beats_per_chord >= total_beats:  # final cadence on the tonic
            index = 0
        root, quality = progression[index]
        chord = [base + 12 + root + i for i in QUALITY[quality]]
        chord = [p - 12 if p > base + 24 else p for p in chord]
        vel = int(80 * level(beat))
        bass = base + root - (12 if root > 6 else 0)
        if style == "piano_arpeggio":
            pattern = [chord[0], chord[2 % len(chord)], chord[1], chord[2 % len(chord)]]
            for step in range(beats_per_chord * 2):
                note(0, pattern[step % 4] - 12, beat + step / 2, 0.5, int(vel * 0.7))
            note(2, bass - 12, beat, beats_per_chord, vel)
        elif style.startswith("band"):
            for step in range(beats_per_chord):
                if step % 2 == 1 or rng.random() < 0.5:
                    for p in chord:
                        note(0, p, beat + step + 0.5 * (step % 2), 0.45, int(vel * 0.8))
                note(2, bass if step % 2 == 0 else bass + 7, beat + step, 0.9, vel)
        else:
            for p in chord:
                note(0, p, beat, beats_per_chord, int(vel * 0.8))
            note(2, bass - 12 if legato else bass, beat, beats_per_chord, vel)
        # Melody: a chord tone when the chord changes, otherwise scale steps (rarely a repeat).
        step_len = 1.0 if legato or rng.random() < 0.5 else 0.5
        t = 0.0
        while t < beats_per_chord:
            if t == 0:
                targets = [p + 12 * k for p in chord for k in (1, 2) if p + 12 * k != melody_pitch]
                melody_pitch = min(targets, key=lambda p: abs(p - melody_pitch) + rng.random())
            elif rng.random() > 0.15:
                degree = [(melody_pitch - base - s) % 12 for s in scale]
                here = degree.index(0) if 0 in degree else 0
                move = int(rng.choice([-2, -1, 1, 2]))
                if melody_pitch > base + 40:
                    move = -abs(move)
                elif melody_pitch < base + 26:
                    move = abs(move)
                octave, idx = divmod(here + move, len(scale))
                melody_pitch = melody_pitch - scale[here] + scale[idx] + 12 * octave
            note(1, int(melody_pitch), beat + t, step_len, int(90 * level(beat + t)))
            t += step_len
    if drums:
        for beat in range(total_beats):
            vel = int(100 * level(beat))
            note(9, 36 if beat % 2 == 0 else 38, beat, 0.25, vel)
            note(9, 42, beat, 0.25, int(vel * 0.6))
            note(9, 42, beat + 0.5, 0.25, int(vel * 0.45))

    midi = mido.MidiFile(ticks_per_beat=TICKS)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for channel, program in ((0, chord_prog), (1, melody_prog), (2, bass_prog)):
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    for beat, tempo in enumerate(tempos):
        events.append(
            (beat * TICKS, -1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo)))
        )
    events.sort(key=lambda e: (e[0], e[1]))
    last = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - last))
        last = tick
    name = f"midi{seed:04d}_{style}_{PITCH_CLASSES[tonic_pc]}{mode}_{drift}"
    name += "_quiet" if quiet_start else ""
    return midi, Piece(name, mean_bpm, PITCH_CLASSES[tonic_pc], mode, style)


def render(midi: mido.MidiFile, out_dir: Path, name: str, sample_rate: int = 22_050) -> np.ndarray:
    binary = shutil.which("fluidsynth")
    if binary is None or not SOUNDFONT.exists():
        raise RuntimeError("needs Debian's fluidsynth and fluid-soundfont-gm")
    out_dir.mkdir(parents=True, exist_ok=True)
    mid_path = out_dir / f"{name}.mid"
    wav_path = out_dir / f"{name}.wav"
    midi.save(mid_path)
    subprocess.run(
        [
            binary,
            "-ni",
            "-g",
            "0.5",
            "-r",
            str(sample_rate),
            "-F",
            str(wav_path),
            str(SOUNDFONT),
            str(mid_path),
        ],
        check=True,
        capture_output=True,
    )
    samples, _ = sf.read(wav_path, dtype="float32", always_2d=True)
    return samples.mean(axis=1)
