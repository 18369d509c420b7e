"""HTTP routes of the catalog: artists, albums and genres; tracks and audio are mounted here too.

Reads need a signed-in caller and answer with a weak ETag (304 on If-None-Match);
changes to artists and albums need the curator role.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from audotics.gateway.auth import CuratorUser, CurrentUser
from audotics.gateway.deps import SessionDep
from audotics.gateway.errors import PROBLEM_RESPONSES
from audotics.gateway.pagination import Page
from audotics.services.catalog import service
from audotics.services.catalog.audio_api import router as audio_router
from audotics.services.catalog.features_api import router as features_router
from audotics.services.catalog.schemas import (
    AlbumCreate,
    AlbumOut,
    AlbumUpdate,
    ArtistCreate,
    ArtistOut,
    ArtistUpdate,
    GenreOut,
)
from audotics.services.catalog.shared_api import (
    NOT_MODIFIED,
    TEXT_FILTER,
    GenreFilter,
    Pagination,
    json_with_etag,
    page_of,
)
from audotics.services.catalog.similar_api import router as similar_router
from audotics.services.catalog.tracks_api import router as tracks_router

router = APIRouter(tags=["catalog"], responses=PROBLEM_RESPONSES)

ArtistId = Annotated[uuid.UUID, Path(description="Artist id")]
AlbumId = Annotated[uuid.UUID, Path(description="Album id")]
NamePrefix = Annotated[
    str | None,
    Query(max_length=300, pattern=TEXT_FILTER, description="Name prefix, matched normalised"),
]


# --- artists ---------------------------------------------------------------------------


@router.get(
    "/artists",
    response_model=Page[ArtistOut],
    summary="List artists",
    responses=NOT_MODIFIED,
)
async def list_artists(
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    page: Pagination,
    q: NamePrefix = None,
    genre: GenreFilter = None,
) -> Response:
    """Artists by name, optionally those whose name starts with `q` or of a `genre`."""
    return json_with_etag(
        request,
        page_of(
            await service.list_artists(session, page.limit, page.offset, q=q, genre=genre),
            page,
        ),
    )


@router.post(
    "/artists",
    status_code=status.HTTP_201_CREATED,
    response_model=ArtistOut,
    summary="Add an artist (curators)",
)
async def create_artist(
    request: Request, body: ArtistCreate, _: CuratorUser, session: SessionDep, response: Response
) -> ArtistOut:
    """409 with the existing `artist_id` when an artist of that normalised name exists."""
    artist = await service.create_artist(session, body)
    response.headers["Location"] = str(request.url_for("get_artist", artist_id=str(artist.id)))
    return artist


@router.get(
    "/artists/{artist_id}",
    response_model=ArtistOut,
    summary="One artist",
    responses=NOT_MODIFIED,
)
async def get_artist(
    request: Request, artist_id: ArtistId, _: CurrentUser, session: SessionDep
) -> Response:
    return json_with_etag(request, await service.get_artist(session, artist_id))


@router.patch("/artists/{artist_id}", response_model=ArtistOut, summary="Rename or re-genre")
async def update_artist(
    artist_id: ArtistId, body: ArtistUpdate, _: CuratorUser, session: SessionDep
) -> ArtistOut:
    return await service.update_artist(session, artist_id, body)


@router.delete(
    "/artists/{artist_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an artist without albums or tracks",
)
async def delete_artist(artist_id: ArtistId, _: CuratorUser, session: SessionDep) -> Response:
    """409 while albums or tracks still name the artist."""
    await service.delete_artist(session, artist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- albums ----------------------------------------------------------------------------


@router.get("/albums", response_model=Page[AlbumOut], summary="List albums", responses=NOT_MODIFIED)
async def list_albums(
    request: Request,
    _: CurrentUser,
    session: SessionDep,
    page: Pagination,
    artist_id: Annotated[uuid.UUID | None, Query(description="Only this artist's")] = None,
    q: NamePrefix = None,
) -> Response:
    albums = await service.list_albums(session, page.limit, page.offset, artist_id=artist_id, q=q)
    return json_with_etag(request, page_of(albums, page))


@router.post(
    "/albums",
    status_code=status.HTTP_201_CREATED,
    response_model=AlbumOut,
    summary="Add an album (curators)",
)
async def create_album(
    request: Request, body: AlbumCreate, _: CuratorUser, session: SessionDep, response: Response
) -> AlbumOut:
    """The artist is given by `artist_id`, or by `artist` name (found or created)."""
    album = await service.create_album(session, body)
    response.headers["Location"] = str(request.url_for("get_album", album_id=str(album.id)))
    return album


@router.get(
    "/albums/{album_id}", response_model=AlbumOut, summary="One album", responses=NOT_MODIFIED
)
async def get_album(
    request: Request, album_id: AlbumId, _: CurrentUser, session: SessionDep
) -> Response:
    return json_with_etag(request, await service.get_album(session, album_id))


@router.patch("/albums/{album_id}", response_model=AlbumOut, summary="Change an album")
async def update_album(
    album_id: AlbumId, body: AlbumUpdate, _: CuratorUser, session: SessionDep
) -> AlbumOut:
    return await service.update_album(session, album_id, body)


@router.delete(
    "/albums/{album_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an album (its tracks stay, without an album)",
)
async def delete_album(album_id: AlbumId, _: CuratorUser, session: SessionDep) -> Response:
    await service.delete_album(session, album_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- genres ----------------------------------------------------------------------------


@router.get("/genres", response_model=Page[GenreOut], summary="List genres", responses=NOT_MODIFIED)
async def list_genres(
    request: Request, _: CurrentUser, session: SessionDep, page: Pagination, q: GenreFilter = None
) -> Response:
    genres = await service.list_genres(session, page.limit, page.offset, q=q)
    return json_with_etag(request, page_of(genres, page))


router.include_router(tracks_router)
router.include_router(audio_router)
router.include_router(features_router)
router.include_router(similar_router)
