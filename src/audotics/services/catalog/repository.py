"""Queries over the catalog service's tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from audotics.infra.db import new_id, utcnow
from audotics.services.catalog.models import (
    Album,
    Artist,
    Genre,
    Track,
    TrackAudioFeatures,
    artist_genres,
    track_genres,
)
from audotics.services.catalog.schemas import TrackScope

T = TypeVar("T")

_TRACK_DETAILS = (
    joinedload(Track.artist),
    joinedload(Track.album),
    selectinload(Track.genres),
)


async def _insert_if_absent(session: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on the unique ``name_key``: race-free find-or-create.

    True when this call inserted the row.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    row = {"id": new_id(), "created_at": now, "updated_at": now, **values}
    result = await session.execute(insert(model).values(row).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


async def _page(
    session: AsyncSession, query: Select[T], limit: int, offset: int
) -> tuple[list[T], int]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.scalars(query.limit(limit).offset(offset))).unique().all()
    return list(rows), int(total or 0)


# --- genres ----------------------------------------------------------------------------


async def genres_by_key(session: AsyncSession, keys: Sequence[str]) -> dict[str, Genre]:
    if not keys:
        return {}
    rows = await session.scalars(select(Genre).where(Genre.name_key.in_(list(keys))))
    return {genre.name_key: genre for genre in rows}


async def insert_genre_if_absent(session: AsyncSession, name: str, key: str) -> bool:
    return await _insert_if_absent(session, Genre, {"name": name, "name_key": key})


async def list_genres(
    session: AsyncSession, key_prefix: str | None, limit: int, offset: int
) -> tuple[list[Genre], int]:
    query = select(Genre).order_by(Genre.name_key)
    if key_prefix:
        query = query.where(Genre.name_key.startswith(key_prefix, autoescape=True))
    return await _page(session, query, limit, offset)


# --- artists ---------------------------------------------------------------------------


async def artist_by_id(session: AsyncSession, artist_id: uuid.UUID) -> Artist | None:
    result = await session.execute(
        select(Artist).where(Artist.id == artist_id).options(selectinload(Artist.genres))
    )
    return result.scalar_one_or_none()


async def artist_by_key(session: AsyncSession, key: str) -> Artist | None:
    result = await session.execute(
        select(Artist).where(Artist.name_key == key).options(selectinload(Artist.genres))
    )
    return result.scalar_one_or_none()


async def insert_artist_if_absent(session: AsyncSession, name: str, key: str) -> bool:
    return await _insert_if_absent(session, Artist, {"name": name, "name_key": key})


async def list_artists(
    session: AsyncSession,
    *,
    key_prefix: str | None,
    genre_key: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Artist], int]:
    query = select(Artist).options(selectinload(Artist.genres)).order_by(Artist.name_key)
    if key_prefix:
        query = query.where(Artist.name_key.startswith(key_prefix, autoescape=True))
    if genre_key:
        query = query.where(
            Artist.id.in_(
                select(artist_genres.c.artist_id)
                .join(Genre, Genre.id == artist_genres.c.genre_id)
                .where(Genre.name_key == genre_key)
            )
        )
    return await _page(session, query, limit, offset)


async def artist_reference_counts(session: AsyncSession, artist_id: uuid.UUID) -> tuple[int, int]:
    albums = await session.scalar(select(func.count()).where(Album.artist_id == artist_id))
    tracks = await session.scalar(select(func.count()).where(Track.artist_id == artist_id))
    return int(albums or 0), int(tracks or 0)


# --- albums ----------------------------------------------------------------------------


async def album_by_id(session: AsyncSession, album_id: uuid.UUID) -> Album | None:
    result = await session.execute(
        select(Album).where(Album.id == album_id).options(joinedload(Album.artist))
    )
    return result.scalar_one_or_none()


async def album_by_title(session: AsyncSession, artist_id: uuid.UUID, key: str) -> Album | None:
    result = await session.execute(
        select(Album)
        .where(Album.artist_id == artist_id, Album.title_key == key)
        .options(joinedload(Album.artist))
        .order_by(Album.created_at, Album.id)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def list_albums(
    session: AsyncSession,
    *,
    artist_id: uuid.UUID | None,
    key_prefix: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Album], int]:
    query = select(Album).options(joinedload(Album.artist)).order_by(Album.title_key, Album.id)
    if artist_id is not None:
        query = query.where(Album.artist_id == artist_id)
    if key_prefix:
        query = query.where(Album.title_key.startswith(key_prefix, autoescape=True))
    return await _page(session, query, limit, offset)


async def albums_of_artist(session: AsyncSession, artist_id: uuid.UUID) -> list[Album]:
    result = await session.scalars(
        select(Album).where(Album.artist_id == artist_id).options(joinedload(Album.artist))
    )
    return list(result)


# --- tracks ----------------------------------------------------------------------------


def visible_to(viewer_id: uuid.UUID | None) -> ColumnElement[bool]:
    """Public tracks, plus the viewer's own private ones."""
    if viewer_id is None:
        return Track.owner_id.is_(None)
    return or_(Track.owner_id.is_(None), Track.owner_id == viewer_id)


async def track_by_id(
    session: AsyncSession, track_id: uuid.UUID, *, for_update: bool = False
) -> Track | None:
    query = select(Track).where(Track.id == track_id).options(*_TRACK_DETAILS)
    if for_update:
        # PostgreSQL locks the row (SQLite serialises writers anyway); the row may have
        # changed since this session last saw it, so refresh what is in the identity map.
        query = query.with_for_update(of=Track).execution_options(populate_existing=True)
    result = await session.execute(query)
    return result.unique().scalar_one_or_none()


async def tracks_by_ids(
    session: AsyncSession, track_ids: Sequence[uuid.UUID], viewer_id: uuid.UUID | None
) -> list[Track]:
    if not track_ids:
        return []
    # Visibility is checked here, not in SQL: with the OR of visible_to beside the IN list,
    # SQLite walks ix_tracks_owner_id over every public track (72 ms at 100k tracks)
    # instead of looking the ids up by primary key.
    result = await session.scalars(
        select(Track).where(Track.id.in_(list(track_ids))).options(*_TRACK_DETAILS)
    )
    return [
        track
        for track in result.unique()
        if track.owner_id is None or (viewer_id is not None and track.owner_id == viewer_id)
    ]


#: Ids per IN list: asyncpg refuses a statement with more than 32,767 parameters (and
#: SQLite's default build 32,766).
_IDS_PER_QUERY = 10_000


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """The columns of a track summary, read without ORM objects."""

    id: uuid.UUID
    title: str
    duration_s: float | None
    has_audio: bool
    artist_id: uuid.UUID
    artist_name: str
    album_id: uuid.UUID | None
    album_title: str | None
    genres: list[str]  # the track's own genre names, by name_key


async def summary_rows(
    session: AsyncSession, track_ids: Sequence[uuid.UUID], viewer_id: uuid.UUID | None
) -> list[SummaryRow]:
    """What :func:`tracks_by_ids` and a summary of each would read, as plain columns.

    One SELECT per chunk of ids, the genres outer-joined (a row per genre): no ORM
    objects and one round trip instead of the ORM's two (a round trip through aiosqlite
    is four thread hops, the larger part of a small read's cost).
    """
    found: list[SummaryRow] = []
    ids = list(track_ids)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        found.extend(await _summary_chunk(session, ids[start : start + _IDS_PER_QUERY], viewer_id))
    return found


# Built once: composing the joins and the IN list costs more per request than running
# them (an expanding bind parameter takes any number of ids; the compiled form is cached).
_SUMMARY_QUERY = (
    select(
        Track.id,
        Track.title,
        Track.duration_s,
        Track.owner_id,
        Track.audio_key.is_not(None),
        Artist.id,
        Artist.name,
        Album.id,
        Album.title,
        Genre.name_key,
        Genre.name,
    )
    .join(Artist, Artist.id == Track.artist_id)
    .outerjoin(Album, Album.id == Track.album_id)
    .outerjoin(track_genres, track_genres.c.track_id == Track.id)
    .outerjoin(Genre, Genre.id == track_genres.c.genre_id)
    .where(Track.id.in_(bindparam("track_ids", expanding=True)))
)


async def _summary_chunk(
    session: AsyncSession, track_ids: list[uuid.UUID], viewer_id: uuid.UUID | None
) -> list[SummaryRow]:
    if not track_ids:
        return []
    # Visibility in Python, as in tracks_by_ids: the OR beside the IN list makes SQLite
    # walk ix_tracks_owner_id instead of the primary key.
    result = await session.execute(_SUMMARY_QUERY, {"track_ids": track_ids})
    tracks: dict[uuid.UUID, tuple[Any, ...]] = {}
    genres: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for row in result.all():
        owner_id = row[3]
        if owner_id is not None and (viewer_id is None or owner_id != viewer_id):
            continue
        tracks.setdefault(row[0], tuple(row[:9]))
        if row[9] is not None:
            genres.setdefault(row[0], []).append((row[9], row[10]))
    return [
        SummaryRow(
            id=track_id,
            title=title,
            duration_s=duration_s,
            has_audio=bool(has_audio),
            artist_id=artist_id,
            artist_name=artist_name,
            album_id=album_id,
            album_title=album_title,
            # Sorted in Python like convert.genre_names: the databases' collations differ.
            genres=[name for _, name in sorted(genres.get(track_id, ()))],
        )
        for track_id, (
            _,
            title,
            duration_s,
            _owner,
            has_audio,
            artist_id,
            artist_name,
            album_id,
            album_title,
        ) in tracks.items()
    ]


async def track_is_visible(
    session: AsyncSession, track_id: uuid.UUID, viewer_id: uuid.UUID | None
) -> bool:
    found = await session.scalar(
        select(Track.id).where(Track.id == track_id, visible_to(viewer_id))
    )
    return found is not None


async def track_by_title(session: AsyncSession, artist_id: uuid.UUID, key: str) -> Track | None:
    """The oldest public track of that artist and title."""
    result = await session.execute(
        select(Track)
        .where(Track.artist_id == artist_id, Track.title_key == key, Track.owner_id.is_(None))
        .options(*_TRACK_DETAILS)
        .order_by(Track.created_at, Track.id)
        .limit(1)
    )
    return result.unique().scalar_one_or_none()


async def list_tracks(
    session: AsyncSession,
    *,
    viewer_id: uuid.UUID,
    scope: TrackScope,
    artist_id: uuid.UUID | None,
    album_id: uuid.UUID | None,
    genre_key: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Track], int]:
    query = select(Track).options(*_TRACK_DETAILS)
    if scope is TrackScope.public:
        query = query.where(Track.owner_id.is_(None))
    elif scope is TrackScope.mine:
        query = query.where(Track.owner_id == viewer_id)
    else:
        query = query.where(visible_to(viewer_id))
    if artist_id is not None:
        query = query.where(Track.artist_id == artist_id)
    if album_id is not None:
        query = query.where(Track.album_id == album_id)
        # Album order: numbered tracks first, in order.
        query = query.order_by(Track.track_number.is_(None), Track.track_number)
    if genre_key:
        query = query.where(
            Track.id.in_(
                select(track_genres.c.track_id)
                .join(Genre, Genre.id == track_genres.c.genre_id)
                .where(Genre.name_key == genre_key)
            )
        )
    query = query.order_by(Track.title_key, Track.id)
    return await _page(session, query, limit, offset)


async def tracks_where(
    session: AsyncSession, *conditions: ColumnElement[bool], for_update: bool = False
) -> list[Track]:
    """Every track matching ``conditions``, fully loaded (re-indexing, export, deletion).

    ``for_update`` locks the rows in a fixed order before anything else is touched, the
    same order the analysis worker takes (track row first), so the two cannot deadlock.
    """
    query = (
        select(Track)
        .where(*conditions)
        .options(*_TRACK_DETAILS)
        .order_by(Track.created_at, Track.id)
    )
    if for_update:
        query = query.with_for_update(of=Track).execution_options(populate_existing=True)
    result = await session.scalars(query)
    return list(result.unique())


async def features_of(
    session: AsyncSession, track_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TrackAudioFeatures]:
    if not track_ids:
        return {}
    rows = await session.scalars(
        select(TrackAudioFeatures).where(TrackAudioFeatures.track_id.in_(list(track_ids)))
    )
    return {row.track_id: row for row in rows}


async def delete_features(session: AsyncSession, track_id: uuid.UUID) -> None:
    await session.execute(delete(TrackAudioFeatures).where(TrackAudioFeatures.track_id == track_id))


async def referenced_audio_keys(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(Track.audio_key).where(Track.audio_key.is_not(None)))
    return {key for key in rows if key}


async def tracks_for_serving(
    session: AsyncSession, track_ids: Sequence[uuid.UUID] | None, viewer_id: uuid.UUID | None
) -> list[Track]:
    """Visible tracks (all of them when ``track_ids`` is None) with artist, artist genres
    and track genres loaded, in creation order."""
    query = select(Track).where(visible_to(viewer_id))
    if track_ids is not None:
        if not track_ids:
            return []
        query = query.where(Track.id.in_(list(track_ids)))
    result = await session.scalars(
        query.options(
            joinedload(Track.artist).selectinload(Artist.genres), selectinload(Track.genres)
        ).order_by(Track.created_at, Track.id)
    )
    return list(result.unique())


async def catalog_fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    row = (
        await session.execute(select(func.count(), func.max(Track.updated_at)).select_from(Track))
    ).one()
    analysed = await session.scalar(select(func.max(TrackAudioFeatures.analysed_at)))
    features = await session.scalar(select(func.count()).select_from(TrackAudioFeatures))
    return (int(row[0] or 0), row[1], analysed, int(features or 0))
