"""Audio analysis throughput and accuracy: our pipeline against a librosa pipeline.

    python -m bench audio_analysis [--clips 40] [--seconds 30] [--source generator|synth]
                                   [--sample-rate 44100] [--channels 2] [--librosa-chroma stft]

Renders the same clips for both (the ground-truth generator by default, mixed
WAV/FLAC in a temporary directory, rendering not timed), then in one run:

- ours: ``analysis.analyze_file`` (decode + loudness + every feature + embedding);
- librosa: ``librosa.load`` at 22 050 Hz, one STFT shared where the API allows,
  ``beat.beat_track`` on ``onset.onset_strength``, ``onset.onset_detect``,
  ``feature.mfcc`` (13), ``chroma_stft`` (or ``chroma_cqt``) with Krumhansl-Schmuckler
  key correlation, spectral centroid/rolloff/flatness/bandwidth, zero-crossing rate,
  RMS, and pyloudnorm's integrated loudness of the loaded signal when installed.

librosa is warmed up first (numba compiles on the first call). CPU time is
``time.process_time`` with BLAS, numba and FFT limited to one thread for both,
so the figures are per core. Prints seconds of audio analysed per CPU-second
for each, their ratio, and tempo/key accuracy of each against the clips' ground
truth (tempo within 4 %, octave errors counted separately; key exact and
key-or-relative); writes bench/results/audio_analysis.json.
"""

from __future__ import annotations

import os

for _variable in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from audotics.ml.audio.analysis import analyze_file  # noqa: E402
from audotics.ml.audio.synth import PITCH_CLASSES, ClipSpec, render_clip  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "audio_analysis.json"
SAMPLE_RATE = 22_050
KRUMHANSL_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KRUMHANSL_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclasses.dataclass(frozen=True)
class Clip:
    path: Path
    seconds: float
    tempo_bpm: float
    key: str
    mode: str
    loudness_lufs: float | None


Estimate = tuple[float | None, str | None, str | None, float | None]  # bpm, key, mode, LUFS


def make_clips(args: argparse.Namespace, directory: Path) -> tuple[list[Clip], str]:
    formats = ("wav", "flac")
    if args.source == "generator":
        try:
            from audotics.ml.audio import generator
        except ImportError as exc:  # the generator is another part of the code base
            print(f"generator unavailable ({exc}); using synth")
        else:
            clips = []
            for index, spec in enumerate(
                generator.draw_set(args.clips, args.seed, (args.seconds, args.seconds))
            ):
                overrides: dict[str, Any] = {}
                if args.sample_rate:
                    overrides["sample_rate"] = args.sample_rate
                if args.channels:
                    overrides["channels"] = args.channels
                spec = dataclasses.replace(spec, **overrides)
                fmt = formats[index % 2]
                truth = generator.write_clip(spec, directory, f"clip{index:03d}", fmt)
                clips.append(
                    Clip(
                        truth.path,
                        truth.duration_s,
                        truth.tempo_bpm,
                        truth.key,
                        truth.mode,
                        truth.loudness_lufs,
                    )
                )
            return clips, "generator"
    rng = np.random.default_rng(args.seed)
    clips = []
    rate = args.sample_rate or 44_100
    for index in range(args.clips):
        spec = ClipSpec(
            tempo_bpm=float(rng.uniform(60, 180)),
            key=PITCH_CLASSES[index % 12],
            mode=("major", "minor")[(index // 12) % 2],
            seconds=args.seconds,
            sample_rate=rate,
            brightness=float(rng.uniform(0, 1)),
            loudness=float(rng.uniform(0.2, 1.0)),
            seed=index,
        )
        samples = render_clip(spec)
        if (args.channels or 2) == 2:
            samples = np.stack([samples, 0.8 * samples], axis=1)
        path = directory / f"clip{index:03d}.{formats[index % 2]}"
        sf.write(path, samples, rate)
        clips.append(Clip(path, args.seconds, spec.tempo_bpm, spec.key, spec.mode, None))
    return clips, "synth"


def ours(path: Path) -> Estimate:
    features = analyze_file(path)
    return features.tempo_bpm, features.key, features.mode, features.loudness_lufs


def librosa_pipeline(chroma_kind: str, shared_stft: bool) -> Callable[[Path], Estimate]:
    """The librosa pipeline: each feature from ``y`` as the documentation's examples call
    them, or (``shared_stft``) tuned by hand to compute one STFT and one mel spectrogram."""
    import librosa

    try:
        import pyloudnorm
    except ImportError:
        pyloudnorm = None
    templates = np.stack(
        [np.roll(KRUMHANSL_MAJOR, k) for k in range(12)]
        + [np.roll(KRUMHANSL_MINOR, k) for k in range(12)]
    )
    feature = librosa.feature

    def idiomatic(y: np.ndarray, sr: int) -> tuple[Any, np.ndarray]:
        tempo, _beats = librosa.beat.beat_track(y=y, sr=sr)
        onset_env = librosa.onset.onset_strength(y=y, sr=sr)
        librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr)
        feature.mfcc(y=y, sr=sr, n_mfcc=13)
        feature.spectral_centroid(y=y, sr=sr)
        feature.spectral_rolloff(y=y, sr=sr)
        feature.spectral_bandwidth(y=y, sr=sr)
        feature.spectral_flatness(y=y)
        feature.rms(y=y)
        if chroma_kind == "cqt":
            return tempo, feature.chroma_cqt(y=y, sr=sr)
        return tempo, feature.chroma_stft(y=y, sr=sr)

    def shared(y: np.ndarray, sr: int) -> tuple[Any, np.ndarray]:
        magnitude = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
        power = magnitude**2
        mel_db = librosa.power_to_db(feature.melspectrogram(S=power, sr=sr))
        onset_env = librosa.onset.onset_strength(S=mel_db, sr=sr)
        tempo, _beats = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr)
        librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr)
        feature.mfcc(S=mel_db, n_mfcc=13)
        feature.spectral_centroid(S=magnitude, sr=sr)
        feature.spectral_rolloff(S=magnitude, sr=sr)
        feature.spectral_bandwidth(S=magnitude, sr=sr)
        feature.spectral_flatness(S=magnitude)
        feature.rms(S=magnitude)
        if chroma_kind == "cqt":
            return tempo, feature.chroma_cqt(y=y, sr=sr)
        return tempo, feature.chroma_stft(S=power, sr=sr)

    features = shared if shared_stft else idiomatic

    def analyse(path: Path) -> Estimate:
        y, sr = librosa.load(path, sr=SAMPLE_RATE, mono=True)
        tempo, chroma = features(y, sr)
        feature.zero_crossing_rate(y)
        profile = chroma.mean(axis=1)
        scores = [np.corrcoef(profile, template)[0, 1] for template in templates]
        best = int(np.nanargmax(scores))
        # Loudness of what librosa loaded (mono at 22.05 kHz): a stereo file's channel
        # powers are not summed, so it reads about 3 LU low on correlated stereo.
        loudness = pyloudnorm.Meter(sr).integrated_loudness(y) if pyloudnorm else None
        bpm = float(np.atleast_1d(tempo)[0])
        lufs = float(loudness) if loudness is not None and np.isfinite(loudness) else None
        return bpm or None, PITCH_CLASSES[best % 12], ("major", "minor")[best // 12], lufs

    return analyse


def _is_relative(key: str | None, mode: str | None, clip: Clip) -> bool:
    if key is None or mode is None or mode == clip.mode:
        return False
    shift = 3 if clip.mode == "minor" else -3
    return PITCH_CLASSES.index(key) == (PITCH_CLASSES.index(clip.key) + shift) % 12


def score(clips: list[Clip], estimates: list[Estimate]) -> dict[str, float | None]:
    tempo = octave = key = relative = 0
    loudness_errors = []
    for clip, (bpm, found_key, found_mode, lufs) in zip(clips, estimates, strict=True):
        ratio = (bpm or 0.0) / clip.tempo_bpm
        good = abs(ratio - 1) <= 0.04
        tempo += good
        octave += (not good) and any(abs(ratio / r - 1) <= 0.04 for r in (0.5, 2.0, 1 / 3, 3.0))
        exact = (found_key, found_mode) == (clip.key, clip.mode)
        key += exact
        relative += exact or _is_relative(found_key, found_mode, clip)
        if lufs is not None and clip.loudness_lufs is not None:
            loudness_errors.append(abs(lufs - clip.loudness_lufs))
    count = len(clips)
    return {
        "tempo_within_4pct": tempo / count,
        "tempo_octave_errors": octave / count,
        "key_exact": key / count,
        "key_or_relative": relative / count,
        "loudness_within_1lu": (
            sum(e <= 1.0 for e in loudness_errors) / len(loudness_errors)
            if loudness_errors
            else None
        ),
    }


def timed(analyse: Callable[[Path], Estimate], clips: list[Clip]) -> tuple[float, list[Estimate]]:
    analyse(clips[0].path)  # warm-up: imports, numba compilation, caches
    started = time.process_time()
    estimates = [analyse(clip.path) for clip in clips]
    return time.process_time() - started, estimates


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench audio_analysis", description=__doc__)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--source", choices=("generator", "synth"), default="generator")
    parser.add_argument("--sample-rate", type=int, default=44_100, help="0: the source's mix")
    parser.add_argument("--channels", type=int, default=2, help="0: the source's mix")
    parser.add_argument("--librosa-chroma", choices=("stft", "cqt"), default="stft")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args(argv)
    try:
        baselines = {
            "librosa": librosa_pipeline(args.librosa_chroma, shared_stft=False),
            "librosa_shared_stft": librosa_pipeline(args.librosa_chroma, shared_stft=True),
        }
    except ImportError:
        print("librosa is not installed: pip install -e '.[bench]'")
        return 2
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass

    with tempfile.TemporaryDirectory(prefix="audotics-bench-audio-") as tmp:
        clips, source = make_clips(args, Path(tmp))
        audio_s = sum(clip.seconds for clip in clips)
        print(f"{len(clips)} clips, {audio_s:.0f} s of audio ({source}, WAV/FLAC), one thread")
        runs = {"ours": timed(ours, clips)}
        for name, baseline in baselines.items():
            runs[name] = timed(baseline, clips)

    report: dict[str, Any] = {
        "benchmark": "audio_analysis",
        "clips": len(clips),
        "audio_seconds": audio_s,
        "source": source,
        "sample_rate": args.sample_rate or "mixed",
        "channels": args.channels or "mixed",
        "formats": "wav,flac alternating",
        "librosa_chroma": args.librosa_chroma,
        "threads": 1,
        "machine": platform.processor() or platform.machine(),
    }
    for name, (cpu_s, estimates) in runs.items():
        report[name] = {
            "cpu_s": cpu_s,
            "audio_s_per_cpu_s": audio_s / cpu_s,
            **score(clips, estimates),
        }
        row = report[name]
        print(
            f"{name:20s} {row['audio_s_per_cpu_s']:7.1f} s audio / CPU-s   "
            f"tempo {row['tempo_within_4pct']:.0%} (octave errors {row['tempo_octave_errors']:.0%})"
            f"  key {row['key_exact']:.0%} (or relative {row['key_or_relative']:.0%})"
            + (
                f"  loudness within 1 LU {row['loudness_within_1lu']:.0%}"
                if row["loudness_within_1lu"] is not None
                else ""
            )
        )
    ours_cpu = runs["ours"][0]
    report["speed_ratio"] = runs["librosa"][0] / ours_cpu
    report["speed_ratio_vs_shared_stft"] = runs["librosa_shared_stft"][0] / ours_cpu
    print(
        f"ratio: {report['speed_ratio']:.2f}x librosa, "
        f"{report['speed_ratio_vs_shared_stft']:.2f}x librosa with a shared STFT (goal >= 5x)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0
