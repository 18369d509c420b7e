"""The MIDI "real music" set: scores in key and tempo, rendered by FluidSynth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from audotics.ml.audio import midi_set
from audotics.ml.audio.midi_set import STYLES, compose, plan
from audotics.ml.audio.midi_textures import DRUMS
from audotics.ml.audio.patterns import MAJOR_SCALE, MINOR_SCALE, PITCH_CLASSES
from tests.support.servers import apt_install, unavailable


def _tempo_events(midi: mido.MidiFile) -> list[tuple[int, int]]:
    """(tick, microseconds per beat) of the conductor track."""
    tick, out = 0, []
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "set_tempo":
            out.append((tick, message.tempo))
    return out


def _notes(midi: mido.MidiFile) -> list[mido.Message]:
    return [m for track in midi.tracks[1:] for m in track if m.type == "note_on"]


def test_plan_covers_every_key_style_and_tempo_change() -> None:
    pieces = plan(72, seed=0)
    keys = Counter((key, mode) for _, key, mode, *_ in pieces)
    assert len(keys) == 24 and set(keys.values()) == {3}
    assert {style.name for _, _, _, style, _, _ in pieces} == {s.name for s in STYLES}
    assert {tempo_map for *_, tempo_map, _ in pieces} >= {"steady", "accelerando", "ritardando"}
    assert any(quiet for *_, quiet in pieces) and not all(quiet for *_, quiet in pieces)
    tempi = [compose(*args)[1].tempo_bpm for args in pieces]
    assert min(tempi) >= 58 and max(tempi) <= 182 and max(tempi) - min(tempi) > 90


@pytest.mark.parametrize("index", range(0, 72, 5))
def test_score_is_in_its_key_and_its_tempo_map_averages_to_the_truth(index: int) -> None:
    args = plan(72, seed=0)[index]
    midi, piece = compose(*args)
    events = _tempo_events(midi)
    total_ticks = max(sum(m.time for m in track) for track in midi.tracks[1:])
    beats = total_ticks / midi.ticks_per_beat
    bounds = [tick for tick, _ in events] + [total_ticks]
    seconds = sum(
        (end - start) / midi.ticks_per_beat * tempo / 1e6
        for (start, tempo), end in zip(events, bounds[1:], strict=True)
    )
    assert piece.tempo_bpm == pytest.approx(60 * beats / seconds, rel=0.005)
    low, high = piece.tempo_range
    assert high / low < 1.07  # "a few percent"
    if piece.tempo_map != "steady":
        assert high / low > 1.03

    tonic = PITCH_CLASSES.index(piece.key)
    scale = set(MAJOR_SCALE if piece.mode == "major" else (*MINOR_SCALE, 11))
    pitched = [m for m in _notes(midi) if m.channel != DRUMS and m.velocity > 0]
    assert all((m.note - tonic) % 12 in scale for m in pitched)
    classes = Counter((m.note - tonic) % 12 for m in pitched)
    assert classes.most_common(1)[0][0] in (0, 7)  # tonic or dominant leads
    has_drums = any(m.channel == DRUMS for m in _notes(midi))
    assert has_drums == (args[3].drums)
    assert ("gm_drums" in piece.instrumentation) == has_drums


def test_quiet_intro_raises_expression_from_soft_to_full() -> None:
    args = next(a for a in plan(72, seed=0) if a[5])
    midi, piece = compose(*args)
    values = [m.value for t in midi.tracks for m in t if m.type == "control_change"]
    assert piece.quiet_intro and min(values) <= 35 and max(values) == 127


@pytest.fixture(scope="module")
def fluidsynth_ready() -> None:
    if midi_set.find_fluidsynth() is None or midi_set.find_soundfont() is None:
        apt_install("fluidsynth", "fluid-soundfont-gm")
    if midi_set.find_fluidsynth() is None or midi_set.find_soundfont() is None:
        unavailable("fluidsynth and fluid-soundfont-gm are not installed")


def test_pieces_render_to_audio_with_measured_truth(tmp_path: Path, fluidsynth_ready: None) -> None:
    chosen = [next(a for a in plan(72, seed=0) if a[3].name == name) for name in ("band", "choir")]
    for args in chosen:
        truth = midi_set.write_piece(args, tmp_path)
        samples, sr = sf.read(truth.path)
        assert sr == 22_050 and samples.ndim == 2
        assert truth.duration_s >= truth.details["score_seconds"] - 0.5
        assert truth.loudness_lufs is not None and -40 < truth.loudness_lufs < -5
        assert truth.sidecar_path.exists() and (tmp_path / truth.details["midi"]).exists()
        assert truth.source == "midi" and truth.tempo_bpm == compose(*args)[1].tempo_bpm


def test_quiet_intro_is_audibly_quieter(tmp_path: Path, fluidsynth_ready: None) -> None:
    args = next(a for a in plan(72, seed=0) if a[5] and a[3].drums)
    truth = midi_set.write_piece(args, tmp_path)
    samples, sr = sf.read(truth.path)
    mono = samples.mean(axis=1)
    bar = int(240 / truth.tempo_bpm * sr)

    def rms_db(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(x**2) + 1e-12))

    assert rms_db(mono[: bar // 2]) < rms_db(mono[3 * bar : 4 * bar]) - 8
