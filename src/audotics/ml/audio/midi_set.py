"""A "real music" evaluation set: MIDI pieces written here, rendered by FluidSynth (GM soundfont).

The synthetic generator's clips share one synthesiser; these share nothing with it
but music theory. Each piece is a Standard MIDI File written with ``mido`` and
rendered by Debian's ``fluidsynth`` through ``FluidR3_GM.sf2`` (sampled organ,
strings, choir, piano, guitars, bass and a General MIDI drum kit on channel 10):

- legato pieces without drums: organ and choir chorales, string ensembles with a
  melody, piano/harp/guitar arpeggios under a tune;
- band arrangements: drums, bass, guitar or piano comping, a lead instrument;
- tempo maps that drift by a few percent (accelerando, ritardando, a slow wave);
- quiet openings: an intro with the harmony alone, rising by MIDI expression (CC 11).

Ground truth: ``tempo_bpm`` is the time-weighted mean quarter-note tempo of the map
(beats played divided by minutes taken), which for these drifts of at most 3 % is
also the tempo heard most of the time; ``key``/``mode`` are the key the piece is
written in (minor pieces use the harmonic minor's major V); loudness and duration
are measured on the rendered file.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from audotics.ml.audio import ground_truth
from audotics.ml.audio.ground_truth import GroundTruth
from audotics.ml.audio.midi_textures import Harmony, Style, Tracks, write_texture
from audotics.ml.audio.patterns import PITCH_CLASSES, PROGRESSIONS, chord_pitch_classes, scale_of

SOUNDFONT_PATHS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),
    Path("/usr/share/soundfonts/default.sf2"),
)
# fmt: off
# name, tempo range, harmony programs, bass programs, melody programs, texture, drums
STYLES = (
    Style("organ_chorale", (60, 100), ("church_organ",), ("church_organ",), (None,),
          "chorale", False),
    Style("choir", (60, 92), ("choir_aahs",), ("choir_aahs",), ("voice_oohs", None),
          "chorale", False),
    Style("strings", (60, 116), ("string_ensemble", "slow_strings"), ("cello", "contrabass"),
          ("violin", "oboe", "flute"), "legato", False),
    Style("piano", (66, 140), ("acoustic_grand_piano",), ("acoustic_grand_piano",),
          ("acoustic_grand_piano",), "arpeggio", False),
    Style("plucked", (70, 132), ("harp", "nylon_guitar", "harpsichord", "vibraphone"),
          ("acoustic_bass", "harp"), ("flute", "clarinet", None), "arpeggio", False),
    Style("band", (88, 180), ("clean_guitar", "overdriven_guitar", "electric_piano", "rock_organ"),
          ("finger_bass", "pick_bass"), ("alto_sax", "square_lead", "trumpet", "flute"),
          "band", True),
    Style("ballad", (60, 88), ("acoustic_grand_piano", "electric_piano", "steel_guitar"),
          ("finger_bass", "acoustic_bass"), ("french_horn", "clarinet", "violin"), "band", True),
)
# fmt: on
TEMPO_MAPS = ("steady", "steady", "accelerando", "ritardando", "wave")


@dataclass(frozen=True)
class Piece:
    name: str
    seed: int
    style: str
    key: str
    mode: str
    tempo_bpm: float  # time-weighted mean of the map
    tempo_map: str
    tempo_range: tuple[float, float]
    quiet_intro: bool
    progression: str
    instrumentation: tuple[str, ...]
    seconds: float  # of the score, without the reverb tail


def find_fluidsynth() -> str | None:
    return shutil.which("fluidsynth")


def find_soundfont() -> Path | None:
    return next((p for p in SOUNDFONT_PATHS if p.exists()), None)


def _tempo_map(kind: str, bpm: float, beats: int) -> list[float]:
    position = np.arange(beats) / max(1, beats - 1)
    factor = {
        "steady": np.ones(beats),
        "accelerando": 0.97 + 0.06 * position,
        "ritardando": 1.03 - 0.06 * position,
        "wave": 1.0 + 0.025 * np.sin(2 * math.pi * position),
    }[kind]
    return [round(float(bpm * f), 3) for f in factor]


def compose(
    seed: int, key: str, mode: str, style: Style, tempo_map: str, quiet_intro: bool
) -> tuple[mido.MidiFile, Piece]:
    """The MIDI file and its description; deterministic for the arguments."""
    rng = np.random.default_rng([seed, 0x1D1])
    bpm = float(rng.uniform(*style.tempo))
    bars = max(4, math.ceil(float(rng.uniform(18.0, 26.0)) * bpm / 240.0))
    progression = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    harmony = Harmony(
        tonic=PITCH_CLASSES.index(key),
        scale=scale_of(mode),
        chords=[chord_pitch_classes(numeral, mode, False) for numeral in progression.split("-")],
        chord_beats=2 if bpm < 90 else 4,
        bars=bars,
        intro_bars=2 if quiet_intro else 0,
    )
    tracks = Tracks()
    names = write_texture(tracks, style, rng, harmony, bpm)
    if quiet_intro:  # expression (CC 11) rises from soft to full over the intro
        steps = harmony.intro_bars * 16
        for channel in list(tracks.events):
            for step in range(steps + 1):
                tracks.control(channel, step / 4, 11, int(30 + 97 * step / steps))
    tempi = [mido.bpm2tempo(bpm) for bpm in _tempo_map(tempo_map, bpm, bars * 4)]
    seconds = sum(tempi) / 1e6
    piece = Piece(
        name=f"midi-{seed:04d}-{style.name}",
        seed=seed,
        style=style.name,
        key=key,
        mode=mode,
        tempo_bpm=round(len(tempi) * 60.0 / seconds, 3),
        tempo_map=tempo_map,
        tempo_range=(round(mido.tempo2bpm(max(tempi)), 3), round(mido.tempo2bpm(min(tempi)), 3)),
        quiet_intro=quiet_intro,
        progression=progression,
        instrumentation=tuple(names),
        seconds=round(seconds, 3),
    )
    return tracks.to_midi(tempi), piece


def plan(count: int, seed: int = 0) -> list[tuple[int, str, str, Style, str, bool]]:
    """Arguments of ``compose`` for ``count`` pieces: keys, styles and tempo maps in turn."""
    rng = np.random.default_rng([seed, 0x9A7])
    keys = [(k, m) for k in PITCH_CLASSES for m in ("major", "minor")]
    out = []
    for index in range(count):
        if index % len(keys) == 0:
            key_order = rng.permutation(len(keys))
        key, mode = keys[int(key_order[index % len(keys)])]
        style = STYLES[index % len(STYLES)]
        tempo_map = TEMPO_MAPS[int(rng.integers(len(TEMPO_MAPS)))]
        out.append((seed * 10_000 + index, key, mode, style, tempo_map, bool(rng.random() < 0.3)))
    return out


def render(midi_path: Path, wav_path: Path, sample_rate: int = 22_050, gain: float = 0.6) -> None:
    """Render with the fluidsynth command line (no audio device, no shell)."""
    binary, soundfont = find_fluidsynth(), find_soundfont()
    if binary is None or soundfont is None:
        raise RuntimeError(
            "fluidsynth and a GM soundfont are needed (Debian: fluidsynth fluid-soundfont-gm; "
            "scripts/install-system-deps.sh installs them)"
        )
    command = [binary, "-ni", "-q", "-F", str(wav_path), "-r", str(sample_rate), "-g", str(gain)]
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [*command, str(soundfont), str(midi_path)], check=True, capture_output=True, timeout=300
    )


def write_piece(args: tuple[int, str, str, Style, str, bool], directory: Path) -> GroundTruth:
    midi, piece = compose(*args)
    midi_path = directory / f"{piece.name}.mid"
    wav_path = directory / f"{piece.name}.wav"
    midi.save(midi_path)
    # Mastering level varies like real releases do: about -30 to -14 LUFS.
    gain = float(np.random.default_rng([piece.seed, 0x6A1]).uniform(0.4, 1.2))
    render(midi_path, wav_path, gain=round(gain, 3))
    loudness, duration = ground_truth.measure_file(wav_path)
    truth = GroundTruth(
        file=wav_path.name,
        source="midi",
        tempo_bpm=piece.tempo_bpm,
        key=piece.key,
        mode=piece.mode,
        loudness_lufs=loudness,
        duration_s=round(duration, 3),
        instrumentation=piece.instrumentation,
        seed=piece.seed,
        details={
            "style": piece.style,
            "tempo_map": piece.tempo_map,
            "tempo_range": list(piece.tempo_range),
            "quiet_intro": piece.quiet_intro,
            "progression": piece.progression,
            "score_seconds": piece.seconds,
            "midi": midi_path.name,
            "format": "wav",
            "render_gain": round(gain, 3),
        },
        directory=directory,
    )
    truth.write()
    return truth


def generate_set(
    directory: Path | str, count: int = 72, seed: int = 0, workers: int = 1
) -> list[GroundTruth]:
    """Write ``count`` pieces (MIDI, rendered WAV, JSON sidecar) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tasks = plan(count, seed)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # fluidsynth runs as processes
        return list(pool.map(lambda task: write_piece(task, directory), tasks))
