"""`audotics demo`: demo users, a demo catalog with real (synthesised) audio, a playlist.

Idempotent: users are ensured, catalog items are found before they are made,
audio is rendered only for tracks that have none. A composition root, so it
may call several services.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.factory import Infra, build_infra
from audotics.infra.secrets import signing_secret
from audotics.ml.audio import generator
from audotics.services.catalog import service as catalog
from audotics.services.catalog.schemas import TrackCreate, Viewer, Visibility
from audotics.services.playlists import service as playlists
from audotics.services.playlists.schemas import PlaylistCreate
from audotics.services.users import service as users
from audotics.services.users.schemas import Role
from audotics.services.users.service import AuthConfig


@dataclass(frozen=True)
class DemoUser:
    email: str
    username: str
    password: str
    role: Role


DEMO_USERS = (
    DemoUser("listener@example.com", "demo", "Listen-To-Music-42", Role.listener),
    DemoUser("curator@example.com", "curator", "Tend-The-Catalog-42", Role.curator),
    DemoUser("admin@example.com", "admin", "Keep-It-Running-42", Role.admin),
)

# Artists, albums and genres come from the generator, which ties each genre to its sound
# (tempo, groove, timbres, loudness) and each artist to a signature within it.
DemoTrack = generator.CatalogTrack


def demo_catalog(
    artists: int = 30, albums_per_artist: int = 2, tracks_per_album: int = 5, seed: int = 7
) -> list[DemoTrack]:
    """A deterministic catalog: the same arguments always give the same tracks."""
    return generator.catalog(artists, albums_per_artist, tracks_per_album, seed)


async def _ensure_users(infra: Infra, config: AuthConfig) -> dict[str, Viewer]:
    viewers = {}
    async with infra.db.session() as session:
        for user in DEMO_USERS:
            row = await users.ensure_user(
                session, config, user.email, user.username, user.password, user.role
            )
            viewers[user.username] = Viewer(
                user_id=row.id, can_curate=user.role is not Role.listener
            )
    return viewers


def _write_flac(spec: generator.GeneratedClip, directory: Path) -> catalog.ReceivedFile:
    path = directory / f"clip-{spec.seed}.flac"
    sf.write(path, generator.render(spec), spec.sample_rate, format="FLAC")
    data = path.read_bytes()
    return catalog.ReceivedFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest())


async def _ensure_catalog(
    infra: Infra, curator: Viewer, tracks: list[DemoTrack]
) -> tuple[int, int]:
    created = rendered = 0
    with tempfile.TemporaryDirectory(prefix="audotics-demo-") as tmp:
        for item in tracks:
            async with infra.db.session() as session:
                found = await catalog.find_track(session, artist=item.artist, title=item.title)
                if found is None:
                    new = await catalog.create_track(
                        session,
                        curator,
                        TrackCreate(
                            title=item.title,
                            artist=item.artist,
                            album=item.album,
                            track_number=item.track_number,
                            genres=list(item.genres),
                            visibility=Visibility.public,
                        ),
                    )
                    track_id, has_audio = new.id, False
                    created += 1
                else:
                    track_id, has_audio = found.id, found.has_audio
                if not has_audio:
                    upload = _write_flac(item.clip, Path(tmp))
                    await catalog.store_track_audio(
                        session, infra.objects, curator, track_id, upload
                    )
                    rendered += 1
    return created, rendered


async def _ensure_playlist(infra: Infra, listener: Viewer, tracks: list[DemoTrack]) -> None:
    name = "Demo favourites"
    async with infra.db.session() as session:
        mine, _ = await playlists.list_my_playlists(session, listener.user_id, limit=100, offset=0)
        if any(p.name == name for p in mine):
            return
        picks = []
        for item in tracks[::12][:10]:
            found = await catalog.find_track(session, artist=item.artist, title=item.title)
            if found is not None:
                picks.append(found.id)
        playlist = await playlists.create_playlist(
            session, listener.user_id, PlaylistCreate(name=name, description="A few demo tracks")
        )
        await playlists.add_items(session, playlist.id, listener.user_id, picks)


async def load_demo(settings: Settings, *, tracks: int | None = None) -> list[str]:
    """Load everything; returns lines to print. ``tracks`` limits the catalog (tests)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    infra = build_infra(settings)
    try:
        config = AuthConfig.from_settings(settings, signing_secret(settings))
        viewers = await _ensure_users(infra, config)
        catalog_items = demo_catalog()[:tracks]
        created, rendered = await _ensure_catalog(infra, viewers["curator"], catalog_items)
        await _ensure_playlist(infra, viewers["demo"], catalog_items)
    finally:
        await infra.close()
    listener = DEMO_USERS[0]
    return [
        f"demo catalog: {len(catalog_items)} tracks "
        f"({created} new, {rendered} rendered with audio)",
        f"demo login: {listener.email} / {listener.password}  (username {listener.username})",
        f"curator login: {DEMO_USERS[1].email} / {DEMO_USERS[1].password}",
    ]
