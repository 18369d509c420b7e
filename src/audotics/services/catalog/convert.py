"""ORM rows to response schemas (service functions never hand rows to other layers)."""

from __future__ import annotations

from collections.abc import Iterable

from audotics.services.catalog.models import Album, Artist, Genre, Track
from audotics.services.catalog.repository import SummaryRow
from audotics.services.catalog.schemas import (
    AlbumOut,
    AlbumRef,
    ArtistOut,
    ArtistRef,
    AudioOut,
    TrackOut,
    TrackSummary,
    Visibility,
)


def genre_names(genres: Iterable[Genre]) -> list[str]:
    # Sorted here too: a collection just assigned keeps the order it was given in.
    return [genre.name for genre in sorted(genres, key=lambda genre: genre.name_key)]


def artist_out(artist: Artist) -> ArtistOut:
    return ArtistOut(
        id=artist.id,
        name=artist.name,
        genres=genre_names(artist.genres),
        created_at=artist.created_at,
        updated_at=artist.updated_at,
    )


def album_out(album: Album) -> AlbumOut:
    return AlbumOut(
        id=album.id,
        title=album.title,
        artist=ArtistRef.model_validate(album.artist),
        release_year=album.release_year,
        created_at=album.created_at,
        updated_at=album.updated_at,
    )


def _audio_out(track: Track) -> AudioOut | None:
    if not track.audio_key or track.audio_uploaded_at is None:
        return None
    return AudioOut(
        content_type=track.audio_content_type or "application/octet-stream",
        size=track.audio_size or 0,
        sha256=track.audio_sha256 or "",
        format=track.audio_format,
        sample_rate=track.audio_sample_rate,
        channels=track.audio_channels,
        uploaded_at=track.audio_uploaded_at,
    )


def track_out(track: Track) -> TrackOut:
    return TrackOut(
        id=track.id,
        title=track.title,
        artist=ArtistRef.model_validate(track.artist),
        album=AlbumRef.model_validate(track.album) if track.album else None,
        duration_s=track.duration_s,
        track_number=track.track_number,
        isrc=track.isrc,
        genres=genre_names(track.genres),
        visibility=Visibility.public if track.is_public else Visibility.private,
        owner_id=track.owner_id,
        audio=_audio_out(track),
        analysis_status=track.analysis_status,
        created_at=track.created_at,
        updated_at=track.updated_at,
    )


def summary_of_row(row: SummaryRow) -> TrackSummary:
    """The same summary as :func:`track_summary`, from the plain columns of a summary read."""
    return TrackSummary(
        id=row.id,
        title=row.title,
        duration_s=row.duration_s,
        artist=ArtistRef(id=row.artist_id, name=row.artist_name),
        album=AlbumRef(id=row.album_id, title=row.album_title)
        if row.album_id is not None and row.album_title is not None
        else None,
        genres=row.genres,
        has_audio=row.has_audio,
    )


def track_summary(track: Track) -> TrackSummary:
    return TrackSummary(
        id=track.id,
        title=track.title,
        duration_s=track.duration_s,
        artist=ArtistRef.model_validate(track.artist),
        album=AlbumRef.model_validate(track.album) if track.album else None,
        genres=genre_names(track.genres),
        has_audio=track.audio_key is not None,
    )
