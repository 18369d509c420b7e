"""The ground-truth generator: deterministic, in key, in time, at the loudness it claims."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt

from audotics.ml.audio.generator import (
    GeneratedClip,
    arrangement,
    catalog,
    draw_set,
    generate_set,
    render,
    render_stems,
    write_clip,
)
from audotics.ml.audio.genres import GENRES
from audotics.ml.audio.ground_truth import read_set
from audotics.ml.audio.instruments import VOICES, midi_to_hz
from audotics.ml.audio.patterns import MAJOR_SCALE, MINOR_SCALE, PITCH_CLASSES


def test_render_is_deterministic_for_a_seed() -> None:
    spec = GeneratedClip.draw(5, duration_s=6.0)
    first, second = render(spec), render(GeneratedClip.draw(5, duration_s=6.0))
    assert first.dtype == np.float32
    assert np.array_equal(first, second)
    other = render(GeneratedClip.draw(6, duration_s=6.0))
    assert first.shape != other.shape or not np.array_equal(first, other)


def test_draw_set_balances_keys_and_covers_tempi_genres_and_forms() -> None:
    specs = draw_set(96, seed=3)
    keys = {(s.key, s.mode) for s in specs}
    assert len(keys) == 24
    assert all(sum((s.key, s.mode) == k for s in specs) == 4 for k in keys)
    tempi = [s.tempo_bpm for s in specs]
    assert min(tempi) >= 60 and max(tempi) <= 180 and max(tempi) - min(tempi) > 90
    assert {s.genre for s in specs} == set(GENRES)
    assert any(s.groove is None for s in specs) and any(s.breakdown for s in specs)
    assert any(s.intro_bars for s in specs) and {s.channels for s in specs} == {1, 2}
    assert {s.sample_rate for s in specs} == {22_050, 44_100}
    assert any(not s.progression.lower().startswith("i-") for s in specs)
    assert all(12.0 <= s.duration_s <= 20.0 for s in specs)
    assert draw_set(96, seed=3) == specs


def _onsets(signal: np.ndarray, sr: int, cutoff_hz: float) -> np.ndarray:
    """Start times of hits in the low band: frames whose energy jumps by over 6 dB."""
    low = sosfilt(butter(4, cutoff_hz, fs=sr, output="sos"), signal)
    hop = int(0.005 * sr)
    frames = low[: low.size // hop * hop].reshape(-1, hop)
    level_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    # Compare with the frame 10 ms earlier, so an attack spread over two frames still counts.
    jump = level_db[2:] - level_db[:-2]
    candidates = np.flatnonzero((jump > 6.0) & (level_db[2:] > level_db.max() - 30)) + 2
    kept: list[int] = []
    for index in candidates:
        if not kept or index - kept[-1] > 12:  # one onset per hit (60 ms)
            kept.append(int(index))
    return (np.array(kept) - 1) * hop / sr


@pytest.mark.parametrize("tempo", [61.0, 92.5, 124.0, 151.0, 178.0])
def test_four_on_the_floor_kicks_are_one_beat_apart(tempo: float) -> None:
    spec = GeneratedClip.draw(
        int(tempo), "house", tempo_bpm=tempo, groove="four_on_floor", fills=False,
        intro_bars=0, breakdown=False, swing=0.5, duration_s=10.0,
    )  # fmt: skip
    kicks = _onsets(render_stems(spec)["drums"], spec.sample_rate, 100.0)
    assert len(kicks) >= 10 * tempo / 60 - 2
    assert np.median(np.diff(kicks)) == pytest.approx(60.0 / tempo, rel=0.02)


@pytest.mark.parametrize("seed", range(6))
def test_kicks_of_every_groove_land_on_the_sixteenth_grid(seed: int) -> None:
    spec = GeneratedClip.draw(seed, swing=0.5, intro_bars=0, duration_s=8.0)
    spec = replace(spec, groove=spec.groove or "rock")
    kicks = _onsets(render_stems(spec)["drums"], spec.sample_rate, 100.0)
    sixteenth = 15.0 / spec.tempo_bpm
    offsets = (kicks + sixteenth / 2) % sixteenth - sixteenth / 2
    assert len(kicks) >= 4
    # 5 ms frames plus the generator's 4 ms (one sigma) human timing.
    assert np.all(np.abs(offsets) < 0.025), (spec.groove, spec.tempo_bpm, offsets)


@pytest.mark.parametrize("voice", sorted(VOICES))
def test_every_voice_sounds_at_its_pitch(voice: str) -> None:
    sr = 22_050
    for pitch in (45, 57, 69):
        freq = midi_to_hz(pitch)
        tone = VOICES[voice].render(freq, sr, sr, np.random.default_rng(1))
        spectrum = np.abs(np.fft.rfft(tone * np.hanning(tone.size), 16 * tone.size))
        bins = np.fft.rfftfreq(16 * tone.size, 1 / sr)
        near = (bins > freq / 1.06) & (bins < freq * 1.06)
        peak = bins[near][np.argmax(spectrum[near])]
        assert abs(1200 * np.log2(peak / freq)) < 15, (voice, pitch, peak)


@pytest.mark.parametrize("seed", range(8))
def test_synthesised_notes_are_in_the_key(seed: int) -> None:
    """Nearly sinusoidal voices, so the spectrum's energy shows the notes' pitch classes."""
    spec = GeneratedClip.draw(seed, bass="sine_bass", pad="flute", lead="flute", duration_s=10.0)
    stems = render_stems(spec)
    tonal = sum(stems[role] for role in ("bass", "pad", "lead") if role in stems)
    assert isinstance(tonal, np.ndarray)
    power = np.abs(np.fft.rfft(tonal)) ** 2
    freqs = np.fft.rfftfreq(tonal.size, 1 / spec.sample_rate)
    band = (freqs > 40) & (freqs < 2000)
    classes = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    chroma = np.bincount(classes, weights=power[band], minlength=12)
    tonic = PITCH_CLASSES.index(spec.key)
    scale = set(MAJOR_SCALE if spec.mode == "major" else (*MINOR_SCALE, 11))  # harmonic minor V
    in_key = sum(chroma[(tonic + degree) % 12] for degree in scale) / chroma.sum()
    assert in_key > 0.9
    third = 4 if spec.mode == "major" else 3
    top = set(np.argsort(chroma)[::-1][:5])
    assert {tonic, (tonic + third) % 12, (tonic + 7) % 12} <= top | {(tonic + third) % 12}
    assert tonic in top


def test_quiet_intro_rises_and_breakdown_drops_the_drums() -> None:
    spec = GeneratedClip.draw(
        11, "synthpop", tempo_bpm=120.0, intro_bars=2, breakdown=True, groove="rock",
        duration_s=20.0, channels=1,
    )  # fmt: skip
    audio = render(spec)
    sr, bar = spec.sample_rate, int(2.0 * spec.sample_rate)

    def rms_db(x: np.ndarray) -> float:
        return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12))

    assert rms_db(audio[: bar // 2]) < rms_db(audio[3 * bar : 5 * bar]) - 10
    drums = render_stems(spec)["drums"]
    breakdown = arrangement(spec).breakdown
    assert breakdown is not None and breakdown[0] > 2
    start, end = breakdown[0] * bar + sr // 2, breakdown[1] * bar - sr // 20  # past the tails
    assert np.max(np.abs(drums[start:end])) < 1e-3
    assert np.max(np.abs(drums[2 * bar : 4 * bar])) > 0.1


@pytest.mark.parametrize(("fmt", "target"), [("flac", -20.0), ("mp3", -14.0), ("wav", -8.0)])
def test_written_clip_reads_back_at_its_loudness(tmp_path: Path, fmt: str, target: float) -> None:
    spec = GeneratedClip.draw(21, "indie rock", target_lufs=target, channels=2, duration_s=8.0)
    truth = write_clip(spec, tmp_path, "clip", fmt)
    info = sf.info(truth.path)
    assert info.channels == 2 and info.samplerate == spec.sample_rate
    assert truth.duration_s == pytest.approx(8.0, abs=0.05)
    assert truth.loudness_lufs is not None and abs(truth.loudness_lufs - target) < 1.0
    samples, _ = sf.read(truth.path)
    assert np.max(np.abs(samples)) <= 1.0
    sidecar = json.loads(truth.sidecar_path.read_text())
    assert sidecar["tempo_bpm"] == spec.tempo_bpm and sidecar["key"] == spec.key
    assert sidecar["instrumentation"] == list(spec.instrumentation)
    assert sidecar["seed"] == 21 and sidecar["details"]["format"] == fmt


def test_generate_set_writes_every_format_reproducibly(tmp_path: Path) -> None:
    truths = generate_set(tmp_path / "a", 6, seed=9, duration_s=(4.0, 5.0))
    assert sorted(p.suffix for p in (tmp_path / "a").iterdir() if p.suffix != ".json") == [
        ".flac", ".flac", ".mp3", ".mp3", ".wav", ".wav",
    ]  # fmt: skip
    assert read_set(tmp_path / "a") == truths
    again = generate_set(tmp_path / "b", 6, seed=9, duration_s=(4.0, 5.0), workers=2)
    assert [t.to_dict() for t in again] == [t.to_dict() for t in truths]
    assert all(t.loudness_lufs is not None and 4.0 <= t.duration_s <= 5.0 for t in truths)


def test_demo_catalog_ties_genres_to_sound() -> None:
    tracks = catalog()
    assert tracks == catalog()
    assert len({(t.artist, t.title) for t in tracks}) == len(tracks) == 240
    by_artist: dict[str, set[tuple[str, str, str | None, str]]] = {}
    for t in tracks:
        by_artist.setdefault(t.artist, set()).add(
            (t.clip.bass, t.clip.pad, t.clip.lead, t.clip.kit)
        )
    assert all(len(signature) == 1 for signature in by_artist.values())

    def mean_tempo(genre: str) -> float:
        return float(np.mean([t.clip.tempo_bpm for t in tracks if t.genres[1] == genre]))

    assert mean_tempo("ambient") < mean_tempo("house") < mean_tempo("drum and bass")
    # Genre explains most of the tempo variance (correlation ratio), as taste clusters need.
    tempi = np.array([t.clip.tempo_bpm for t in tracks])
    genre_means = np.array([mean_tempo(t.genres[1]) for t in tracks])
    assert np.var(genre_means) / np.var(tempi) > 0.7
    loudness = {t.genres[1]: t.clip.target_lufs for t in tracks}
    assert loudness["ambient"] < loudness["techno"]
