"""The sound embedding: shape, determinism, and similarity that follows the material."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audotics.ml.audio.analysis import analyze, analyze_file
from audotics.ml.audio.decode import decode_array
from audotics.ml.audio.embedding import cosine_similarity, embed
from audotics.ml.audio.synth import ClipSpec, render_clip
from audotics.ml.audio.types import EMBEDDING_DIM

RATE = 22_050


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[float]]:
    """Embeddings of two renders of each of three pieces, through different codecs."""
    directory: Path = tmp_path_factory.mktemp("embedding")
    pieces = {
        "bright-fast-major": ClipSpec(150.0, "E", "major", seconds=10.0, brightness=0.9),
        "dark-slow-minor": ClipSpec(70.0, "C", "minor", seconds=10.0, brightness=0.0),
        "mid-minor": ClipSpec(100.0, "G", "minor", seconds=10.0, brightness=0.5),
    }
    found: dict[str, list[float]] = {}
    for name, spec in pieces.items():
        first = directory / f"{name}.flac"
        sf.write(first, render_clip(spec), RATE)
        # The same material: another noise seed, 6 dB quieter, lossy, at 44.1 kHz.
        again = dataclasses.replace(spec, seed=spec.seed + 1, sample_rate=44_100)
        second = directory / f"{name}.ogg"
        sf.write(second, render_clip(again) * 0.5, 44_100, format="OGG", subtype="VORBIS")
        found[name] = analyze_file(first).embedding
        found[name + " again"] = analyze_file(second).embedding
    return found


def test_same_material_is_far_more_similar_than_different_material(
    material: dict[str, list[float]],
) -> None:
    names = [name for name in material if not name.endswith(" again")]
    same = [cosine_similarity(material[n], material[n + " again"]) for n in names]
    different = [
        cosine_similarity(material[a], material[b])
        for index, a in enumerate(names)
        for b in names[index + 1 :]
    ]
    assert min(same) > 0.9
    assert max(different) < min(same) - 0.2


def test_embedding_is_unit_length_fixed_size_and_deterministic() -> None:
    samples = render_clip(ClipSpec(120.0, "D", "major", seconds=6.0))
    first = analyze(decode_array(samples, RATE))
    second = analyze(decode_array(samples.copy(), RATE))
    assert len(first.embedding) == EMBEDDING_DIM
    assert np.linalg.norm(first.embedding) == pytest.approx(1.0, abs=1e-6)
    assert first.embedding == second.embedding
    # Recomputable from the stored features alone.
    np.testing.assert_allclose(embed(first), first.embedding, atol=1e-7)


def test_silence_and_missing_features_still_embed() -> None:
    features = analyze(decode_array(np.zeros(RATE * 3, dtype=np.float32), RATE))
    vector = embed(features)
    assert vector.shape == (EMBEDDING_DIM,) and np.isfinite(vector).all()
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)
    broken = dataclasses.replace(
        features, mfcc_mean=[float("nan")] * 3, chroma=[], spectral_centroid=float("inf")
    )
    assert np.isfinite(embed(broken)).all()
