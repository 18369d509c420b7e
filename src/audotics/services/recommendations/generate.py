"""Generated playlists: a radio around a seed (track, artist, mood) and the daily mix.

**Radio.** Candidates are the hybrid neighbours of the seed track
(:mod:`.similar`: sound + CF + co-listening), and for a seed artist their own
tracks plus the neighbours of their most played ones; with only a mood, every public
track whose analysed features fit it. Each candidate's relevance is its closeness to
the seed (standardised) plus :data:`PERSONAL_WEIGHT` times the personal engine's
standardised score for the caller's history, weighted by how much history there is.
Mood ranges are hard filters on the tracks' current features (read from the catalog
for the final candidates; unanalysed tracks never match). Tracks the caller turned
down and the seed track are left out; the list is diversified by MMR over the sound
embeddings with at most ``max(2, length / 5)`` tracks per artist.

**Daily mix.** About :data:`FAMILIAR_SHARE` of the list are tracks the caller loves
(liked, completed or played repeatedly), drawn by engagement; the rest are the
personal recommendations, drawn favouring the best ranked; favourites are spread
through the list. The draws come from a generator seeded by (user, UTC day), so the
mix stays the same all day, until the caller's history changes.

Caching follows :mod:`.service`: the key holds a digest of the caller's aggregates,
the model version, the serving state, the catalog version, the recipe and (daily
mix) the day, so a new listen or a new analysis is seen at the next request.
Saving (``save=true``) goes through the playlist service's public functions and is
never cached.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra.cache.base import Cache
from audotics.ml.cf.confidence import ConfidenceWeights
from audotics.ml.recommend import rerank
from audotics.ml.recommend.seeded import (
    daily_mix,
    day_generator,
    personal_scores,
    standardise,
    unit_rows,
)
from audotics.problems import Conflict, NotFound
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import Interaction, ItemKind
from audotics.services.catalog import service as catalog
from audotics.services.catalog.analysis_schemas import SimilarBy
from audotics.services.catalog.schemas import ArtistRef, TrackSummary
from audotics.services.playlists import service as playlists
from audotics.services.playlists.schemas import NAME_MAX_LENGTH, PlaylistCreate, PlaylistOut
from audotics.services.recommendations.common import (
    friend_names,
    history_digest,
    people_digest,
    personal_text,
    seeded_text,
)
from audotics.services.recommendations.generate_schemas import (
    GeneratedExplanation,
    GeneratedPlaylist,
    GeneratedReason,
    GeneratedTrack,
    GenerateRequest,
)
from audotics.services.recommendations.serving import (
    ServingState,
    ServingStateCache,
    net_weight,
)
from audotics.services.recommendations.serving_data import SnapshotCache
from audotics.services.recommendations.similar import no_basis, seed_neighbours

CACHE_TTL_S = 600.0
PERSONAL_WEIGHT = 0.5
SEED_NEIGHBOURS = 300  # per seed track
ARTIST_SEEDS = 3  # an artist radio starts from their most played tracks
MAX_POOL = 1000  # candidates whose features are read for the final choice
MOOD_POOL = 5000  # a mood alone: candidates ranked for the listener
DIVERSITY = 0.3
FAMILIAR_SHARE = 0.3
FAVOURITES = 100
HALF_HISTORY = 5.0  # distinct tracks at which personal taste counts half in a radio


@dataclass
class _Candidate:
    track_id: uuid.UUID
    closeness: float  # to the seed; 0 without one
    kind: str  # "sound" | "cf" | "knn" | "artist" | "" (no seed)
    seed_track_id: uuid.UUID | None


@dataclass(frozen=True)
class _Seeds:
    track: TrackSummary | None
    artist: ArtistRef | None

    @property
    def any(self) -> bool:
        return self.track is not None or self.artist is not None


async def _seeds(session: AsyncSession, user_id: uuid.UUID, request: GenerateRequest) -> _Seeds:
    track = artist = None
    if request.seed_track_id is not None:
        found = await catalog.get_tracks(session, [request.seed_track_id], user_id)
        track = found.get(request.seed_track_id)
        if track is None:
            raise NotFound(f"No track {request.seed_track_id}.")
    if request.seed_artist_id is not None:
        out = await catalog.get_artist(session, request.seed_artist_id)  # 404 if unknown
        artist = ArtistRef(id=out.id, name=out.name)
    return _Seeds(track, artist)


async def generate_playlist(
    session: AsyncSession,
    states: ServingStateCache,
    snapshots: SnapshotCache,
    cache: Cache,
    user_id: uuid.UUID,
    request: GenerateRequest,
    *,
    today: date | None = None,
) -> GeneratedPlaylist:
    """The generated list (and, with ``save``, the playlist holding it, owned by the user).

    404 for a seed the user may not see, 409 when there is nothing to base it on or
    (``save``) nothing matched.
    """
    day = today or datetime.now(UTC).date()
    seeds = await _seeds(session, user_id, request)
    rows = await analytics.interactions(session, ItemKind.track, user_id)
    following = await analytics.following(session, user_id) if request.kind == "daily_mix" else []
    state = await states.get(session)
    token = await catalog.catalog_version(session)
    recipe = json.dumps(request.recipe(), sort_keys=True)
    when = day.isoformat() if request.kind == "daily_mix" else "-"
    history = f"{history_digest(rows)}|{people_digest(following)}"
    parts = f"{history}|{state.model_version}|{id(state)}|{token}|{recipe}|{when}"
    key = f"generated:{user_id}:{hashlib.sha256(parts.encode()).hexdigest()[:24]}"
    cached = await cache.get(key)
    if cached is not None:
        result = GeneratedPlaylist.model_validate_json(cached)
    else:
        if request.kind == "radio":
            result = await _radio(session, state, snapshots, user_id, rows, request, seeds)
        else:
            result = await _daily(session, state, user_id, rows, following, request, day)
        await cache.set(key, result.model_dump_json().encode(), ttl_s=CACHE_TTL_S)
    if request.save:
        result.playlist = await _save(session, user_id, request, result, _name(request, seeds, day))
    return result


# --- radio ----------------------------------------------------------------------------


async def _radio(
    session: AsyncSession,
    state: ServingState,
    snapshots: SnapshotCache,
    user_id: uuid.UUID,
    rows: list[Interaction],
    request: GenerateRequest,
    seeds: _Seeds,
) -> GeneratedPlaylist:
    row, disliked_items = state.row(rows)
    disliked = {state.track_ids[i] for i in disliked_items}
    found: dict[uuid.UUID, _Candidate] = {}

    def offer(candidate: _Candidate) -> None:
        held = found.get(candidate.track_id)
        if held is None or candidate.closeness > held.closeness:
            found[candidate.track_id] = candidate

    async def around(track_id: uuid.UUID, n: int) -> None:
        for near in await seed_neighbours(
            session, state, user_id, track_id, SimilarBy.hybrid, n, exclude=disliked
        ):
            offer(_Candidate(near.track_id, near.score, near.kind, track_id))

    if seeds.track is not None:
        await around(seeds.track.id, SEED_NEIGHBOURS)
    if seeds.artist is not None:
        snapshot = await snapshots.get(session)
        try:
            artist_index = snapshot.artist_ids.index(seeds.artist.id)
        except ValueError:
            raise no_basis("This artist has no public tracks yet.") from None
        members = np.flatnonzero(snapshot.artist == artist_index)
        for i in members:
            offer(_Candidate(snapshot.track_ids[i], 1.0, "artist", None))
        played = members[np.argsort(-snapshot.popularity[members], kind="stable")][:ARTIST_SEEDS]
        for i in played:
            try:
                await around(snapshot.track_ids[i], SEED_NEIGHBOURS // ARTIST_SEEDS)
            except Conflict:  # neither analysed nor played: its own entry is enough
                continue
    if seeds.any:  # further afield, after the seed's neighbours: what suits the listener
        for rec in state.engine.recommend(row, 3 * request.length, exclude=disliked_items):
            track_id = state.track_ids[rec.item]
            if track_id not in found:
                offer(_Candidate(track_id, 0.0, "", None))
    else:
        assert request.mood is not None  # the request's validator
        snapshot = await snapshots.get(session)
        fits = np.ones(len(snapshot), dtype=bool)
        for name, bounds in request.mood.ranges().items():
            values = snapshot.feature(name)
            with np.errstate(invalid="ignore"):  # NaN (unknown) never fits
                fits &= np.isfinite(values)
                if bounds.min is not None:
                    fits &= values >= bounds.min
                if bounds.max is not None:
                    fits &= values <= bounds.max
        matching = np.flatnonzero(fits)
        if len(matching) > MOOD_POOL:  # a broad mood: the most played of what fits
            popular = np.argsort(-snapshot.popularity[matching], kind="stable")[:MOOD_POOL]
            matching = np.sort(matching[popular])
        for i in matching:
            offer(_Candidate(snapshot.track_ids[i], 0.0, "", None))
    if seeds.track is not None:
        found.pop(seeds.track.id, None)
    for gone in disliked & found.keys():
        del found[gone]

    candidates = list(found.values())
    items = np.array([state.index_of.get(c.track_id, -1) for c in candidates], dtype=np.int64)
    personal = np.zeros(len(candidates))
    personal_kind = ["popularity"] * len(candidates)
    known = items >= 0
    if known.any():
        scores, kinds = personal_scores(state.engine, row, items[known])
        personal[known] = scores
        personal[~known] = float(scores.min()) if len(scores) else 0.0
        for position, kind in zip(np.flatnonzero(known), kinds, strict=True):
            personal_kind[int(position)] = kind
    taste = row.nnz / (row.nnz + HALF_HISTORY)
    if seeds.any:
        seed_part = standardise(np.array([c.closeness for c in candidates]))
        personal_part = PERSONAL_WEIGHT * taste * standardise(personal)
    else:
        seed_part = np.zeros(len(candidates))
        personal_part = standardise(personal)
    relevance = seed_part + personal_part

    order = np.argsort(-relevance, kind="stable")[:MAX_POOL]
    tracks = {
        t.id: t
        for t in await catalog.serving_tracks(
            session, [candidates[i].track_id for i in order], user_id
        )
    }
    keep = [
        int(i)
        for i in order
        if (t := tracks.get(candidates[i].track_id)) is not None
        and (request.mood is None or request.mood.admits(t.features))
    ]
    chosen = _diversify([candidates[i].track_id for i in keep], relevance[keep], tracks, request)
    summaries = await catalog.get_tracks(
        session,
        [candidates[keep[j]].track_id for j in chosen]
        + [c.seed_track_id for c in candidates if c.seed_track_id is not None],
        user_id,
    )
    out = []
    for j in chosen:
        at = keep[j]
        candidate = candidates[at]
        track = summaries.get(candidate.track_id)
        if track is None:
            continue
        if candidate.kind and seed_part[at] >= personal_part[at]:
            explanation = _seeded_explanation(candidate, summaries, seeds)
        else:
            explanation = GeneratedExplanation(
                kind=GeneratedReason(personal_kind[at]),
                text=personal_text(personal_kind[at], track, None),
            )
        out.append(
            GeneratedTrack(
                track=track, score=float(relevance[at]), familiar=False, explanation=explanation
            )
        )
    return GeneratedPlaylist(kind="radio", items=out, model_version=state.model_version)


def _seeded_explanation(
    candidate: _Candidate, summaries: dict[uuid.UUID, TrackSummary], seeds: _Seeds
) -> GeneratedExplanation:
    if candidate.kind == "artist":
        name = seeds.artist.name if seeds.artist is not None else "the artist"
        return GeneratedExplanation(kind=GeneratedReason.artist, text=f"By {name}")
    seed = summaries.get(candidate.seed_track_id) if candidate.seed_track_id else None
    return GeneratedExplanation(
        kind=GeneratedReason(candidate.kind),
        text=seeded_text(candidate.kind, seed),
        seed_track_id=seed.id if seed is not None else None,
    )


def _diversify(
    ids: list[uuid.UUID],
    relevance: np.ndarray,
    tracks: dict[uuid.UUID, catalog.ServingTrack],
    request: GenerateRequest,
) -> list[int]:
    """Positions into ``ids``: MMR over the sound embeddings, artists capped."""
    if not ids:
        return []
    dims = {t.embedding.shape[0] for t in tracks.values() if t.embedding is not None}
    dim = dims.pop() if len(dims) == 1 else 1
    vectors = np.zeros((len(ids), dim), dtype=np.float32)
    artists: dict[uuid.UUID, int] = {}
    item_artist = np.zeros(len(ids), dtype=np.int64)
    for position, track_id in enumerate(ids):
        track = tracks[track_id]
        if track.embedding is not None and track.embedding.shape == (dim,):
            vectors[position] = track.embedding
        item_artist[position] = artists.setdefault(track.artist_id, len(artists))
    return rerank(
        np.arange(len(ids)),
        np.asarray(relevance, dtype=np.float64),
        request.length,
        diversity=DIVERSITY,
        vectors=unit_rows(vectors),
        item_artist=item_artist,
        max_per_artist=max(2, math.ceil(request.length / 5)),
    )


# --- daily mix ------------------------------------------------------------------------


async def _daily(
    session: AsyncSession,
    state: ServingState,
    user_id: uuid.UUID,
    rows: list[Interaction],
    following: list[uuid.UUID],
    request: GenerateRequest,
    day: date,
) -> GeneratedPlaylist:
    row, disliked = state.row(rows)
    social = state.social_source(following, row)
    weights = ConfidenceWeights()
    positive = [(r, w) for r in rows if (w := net_weight(r, weights)) > 0]
    loved = [(r, w) for r, w in positive if r.likes > 0 or r.completes > 0 or r.plays >= 2]
    favourites = sorted(loved or positive, key=lambda pair: (-pair[1], str(pair[0].item_id)))
    favourites = favourites[:FAVOURITES]
    found = state.engine.recommend(
        row,
        3 * request.length,
        exclude=disliked,
        diversity=0.2,
        max_per_artist=2,
        per_request=(social,) if social is not None else (),
    )
    discoveries = {state.track_ids[r.item]: r for r in found}
    ids = [r.item_id for r, _ in favourites] + list(discoveries)
    tracks = {t.id: t for t in await catalog.serving_tracks(session, ids, user_id)}

    def usable(track_id: uuid.UUID) -> bool:
        track = tracks.get(track_id)
        return track is not None and (request.mood is None or request.mood.admits(track.features))

    familiar = [(r.item_id, w) for r, w in favourites if usable(r.item_id)]
    fresh = [track_id for track_id in discoveries if usable(track_id)]
    rng = day_generator(str(user_id), day.isoformat(), "daily-mix")
    mix = daily_mix(
        [track_id for track_id, _ in familiar],
        [w for _, w in familiar],
        fresh,
        request.length,
        familiar_share=FAMILIAR_SHARE,
        rng=rng,
    )
    seeds = [
        state.track_ids[r.explanation.seed_item]
        for r in found
        if r.explanation.seed_item is not None
    ]
    summaries = await catalog.get_tracks(session, [t for t, _ in mix] + seeds, user_id)
    friends = await friend_names(session, state, found)
    out = []
    for position, (track_id, is_familiar) in enumerate(mix):
        track = summaries.get(track_id)
        if track is None:
            continue
        score = 1.0 - position / max(len(mix), 1)
        if is_familiar:
            explanation = GeneratedExplanation(
                kind=GeneratedReason.favourite, text="One of your favourites"
            )
        else:
            rec = discoveries[track_id]
            seed_id = (
                state.track_ids[rec.explanation.seed_item]
                if rec.explanation.seed_item is not None
                else None
            )
            seed = summaries.get(seed_id) if seed_id is not None else None
            person = rec.explanation.seed_user
            friend = friends.get(person) if person is not None else None
            explanation = GeneratedExplanation(
                kind=GeneratedReason(rec.explanation.kind),
                text=personal_text(rec.explanation.kind, track, seed, friend),
                seed_track_id=seed.id if seed is not None else None,
                seed_username=friend,
            )
        out.append(
            GeneratedTrack(track=track, score=score, familiar=is_familiar, explanation=explanation)
        )
    return GeneratedPlaylist(
        kind="daily_mix", items=out, model_version=state.model_version, generated_for=day
    )


# --- saving ---------------------------------------------------------------------------


def _name(request: GenerateRequest, seeds: _Seeds, day: date) -> str:
    if request.name:
        return request.name
    if request.kind == "daily_mix":
        name = f"Daily mix {day.isoformat()}"
    elif seeds.track is not None:
        name = f"{seeds.track.title} radio"
    elif seeds.artist is not None:
        name = f"{seeds.artist.name} radio"
    else:
        name = "Mood radio"
    return " ".join(name.split())[:NAME_MAX_LENGTH]


async def _save(
    session: AsyncSession,
    user_id: uuid.UUID,
    request: GenerateRequest,
    result: GeneratedPlaylist,
    name: str,
) -> PlaylistOut:
    if not result.items:
        raise Conflict(
            "No track matched, so there is no playlist to save.", title="Nothing to save"
        )
    description = "Your daily mix" if request.kind == "daily_mix" else "A radio generated for you"
    created = await playlists.create_playlist(
        session,
        user_id,
        PlaylistCreate(name=name, description=description, is_public=request.is_public),
        kind="generated",
        generator={
            **request.recipe(),
            "model_version": result.model_version,
            "generated_for": result.generated_for.isoformat() if result.generated_for else None,
        },
    )
    return await playlists.replace_tracks(
        session, created.id, [item.track.id for item in result.items]
    )
