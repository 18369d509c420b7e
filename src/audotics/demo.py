"""`audotics demo`: demo users, a catalog with real (synthesised) audio, listening, a model.

Idempotent: users are ensured, catalog items are found before they are made,
audio is rendered only for tracks that have none, planned listens carry stable
idempotency keys, and a model is trained only when listens were added or none is
registered. The listening of a small community (and of the demo account) makes
recommendations personal and the taste profile non-empty on the first run. A
composition root, so it may call several services.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import soundfile as sf

from audotics.commands.train import TrainOptions, run_train
from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.db import utcnow
from audotics.infra.factory import Infra, build_infra
from audotics.infra.secrets import signing_secret
from audotics.ml.audio import generator
from audotics.ml.cf.registry import ModelRegistry
from audotics.ml.datasets.demo_listening import ListeningPlan, plan_follows, plan_listening
from audotics.problems import NotFound
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import ListenEvent, NewListen
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
) -> tuple[int, int, list[uuid.UUID]]:
    created = rendered = 0
    ids: list[uuid.UUID] = []
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
                ids.append(track_id)
                if not has_audio:
                    upload = _write_flac(item.clip, Path(tmp))
                    await catalog.store_track_audio(
                        session, infra.objects, curator, track_id, upload
                    )
                    rendered += 1
    return created, rendered, ids


COMMUNITY_PREFIX = "demo-fan"
COMMUNITY_EMAIL_DOMAIN = "community.audotics.example"
DEMO_SOURCE = "demo"


def _community_password(secret: str, username: str) -> str:
    """Unguessable without the instance secret and stable across runs; never printed."""
    return "Df-" + hmac.new(secret.encode(), username.encode(), hashlib.sha256).hexdigest()[:32]


async def _ensure_community(
    infra: Infra, config: AuthConfig, secret: str, count: int
) -> list[uuid.UUID]:
    ids = []
    async with infra.db.session() as session:
        for n in range(1, count + 1):
            username = f"{COMMUNITY_PREFIX}-{n:02d}"
            try:
                ids.append((await users.get_user_by_username(session, username)).id)
            except NotFound:
                row = await users.ensure_user(
                    session,
                    config,
                    f"{username}@{COMMUNITY_EMAIL_DOMAIN}",
                    username,
                    _community_password(secret, username),
                    Role.listener,
                )
                ids.append(row.id)
    return ids


async def _ensure_listening(
    infra: Infra,
    listeners: list[uuid.UUID],
    tracks: list[DemoTrack],
    track_ids: list[uuid.UUID],
    artist_ids: dict[uuid.UUID, uuid.UUID],
) -> tuple[ListeningPlan, int]:
    """Store the planned listens (listener 0 is the demo account); returns how many were new."""
    plan = plan_listening(
        [item.genres[-1] for item in tracks],
        [item.clip.duration_s for item in tracks],
        len(listeners),
    )
    origin = utcnow()
    rows = [
        NewListen(
            user_id=listeners[listen.listener],
            track_id=track_ids[listen.track],
            artist_id=artist_ids.get(track_ids[listen.track]),
            event=ListenEvent(listen.event),
            occurred_at=origin - timedelta(seconds=listen.seconds_before_origin),
            play_duration_s=listen.play_duration_s,
            source=DEMO_SOURCE,
            dedup_key=analytics.dedup_key(
                track_ids[listen.track],
                listen.event,
                origin,
                client_key=f"{DEMO_SOURCE}:{listen.key}",
            ),
        )
        for listen in plan.listens
    ]
    async with infra.db.session() as session:
        stored = await analytics.store_listens(session, rows)
        await session.commit()
    return plan, stored.new


async def _ensure_model(settings: Settings, infra: Infra, listens_added: int) -> str | None:
    """Train and register a CF model when listens were added or none is registered yet."""
    current = await ModelRegistry(infra.objects).latest()
    if current is not None and listens_added == 0:
        return current.version
    report = await run_train(settings, TrainOptions(factors=32, iterations=15, holdout=False))
    return None if report is None else report.meta.version


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


async def load_demo(
    settings: Settings, *, tracks: int | None = None, community: int = 47
) -> list[str]:
    """Load everything; returns lines to print. ``tracks`` limits the catalog (tests);
    ``community`` is the number of demo listeners besides the demo account (0: no
    listening and no model)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    infra = build_infra(settings)
    lines = []
    try:
        secret = signing_secret(settings)
        config = AuthConfig.from_settings(settings, secret)
        viewers = await _ensure_users(infra, config)
        catalog_items = demo_catalog()[:tracks]
        created, rendered, track_ids = await _ensure_catalog(
            infra, viewers["curator"], catalog_items
        )
        lines.append(
            f"demo catalog: {len(catalog_items)} tracks "
            f"({created} new, {rendered} rendered with audio)"
        )
        await _ensure_playlist(infra, viewers["demo"], catalog_items)
        if community > 0 and track_ids:
            fans = await _ensure_community(infra, config, secret, community)
            async with infra.db.session() as session:
                found = await catalog.get_tracks(session, track_ids, viewers["demo"].user_id)
            artist_ids = {track_id: found[track_id].artist.id for track_id in found}
            plan, added = await _ensure_listening(
                infra, [viewers["demo"].user_id, *fans], catalog_items, track_ids, artist_ids
            )
            lines.append(
                f"demo listening: {len(plan.listens)} events by {plan.listeners} listeners "
                f"({added} new)"
            )
            listeners = [viewers["demo"].user_id, *fans]
            follows = [(listeners[a], listeners[b]) for a, b in plan_follows(plan)]
            async with infra.db.session() as session:
                new_follows = await analytics.add_follows(session, follows, source=DEMO_SOURCE)
                await session.commit()
            lines.append(f"demo follows: {len(follows)} ({new_follows} new)")
            version = await _ensure_model(settings, infra, added)
            if version is not None:
                lines.append(f"recommendation model: {version}")
    finally:
        await infra.close()
    listener = DEMO_USERS[0]
    return [
        *lines,
        f"demo login: {listener.email} / {listener.password}  (username {listener.username})",
        f"curator login: {DEMO_USERS[1].email} / {DEMO_USERS[1].password}",
    ]
