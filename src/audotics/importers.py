"""``audotics import``: listening data from files into the platform (a composition root).

``audotics import PATH --format {lastfm-hetrec,listenbrainz,scrobble-csv,csv} [--user NAME]``
parses with :mod:`audotics.ml.datasets` and writes through the services' public
functions, into the database the settings name (migrated first):

* Tracks and artists are matched by normalised name in the public catalog and
  created when new (``catalog.find_or_create_track`` / ``find_or_create_artist``);
  a name -> id cache for the run saves one query per row.
* Users: ListenBrainz and scrobble-CSV listens belong to ``--user`` (an existing
  account). In a generic CSV each ``user_id`` becomes an imported account
  ``imp-<slug>`` (or ``--user`` takes every row); HetRec user 2 becomes ``lastfm-2``.
  Imported accounts are listeners with the email ``<username>@imported.audotics.example``
  and a random 256-bit password nobody is told, so nobody can sign in as them until
  an administrator sets a password; the analytics service notes which accounts an
  import made, and an account of that name that no import made is refused (its rows
  are bad rows), so nobody can claim imported history by signing up first. As the
  password cannot be guessed, it is hashed with the lowest argon2 cost, which keeps
  the HetRec import's 1,892 accounts fast.
* A row with a timestamp becomes listens (``count`` of them), keyed like the API's
  derived keys, so one listen sent through the API and imported is stored once. A row
  without one is an imported play count for the track and its artist: the file's
  total per (user, item) replaces what an earlier import of the same format set.
* HetRec: play counts per (user, artist); each artist's most assigned tags (up to
  five) become its genres; friends become follows (the analytics service's
  ``follows`` table, as the user service has no social graph).

Rows go in batches (1000 per transaction). Bad rows (parse issues, names the catalog
refuses, times out of range) are counted and the first few reported with their
line, never abort the import. Importing the same file again changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import typer
from rich import progress as bars
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.config import Settings
from audotics.infra import migrate
from audotics.infra.factory import Infra, build_infra
from audotics.infra.secrets import signing_secret
from audotics.ml import datasets
from audotics.ml.datasets import ListenRecord, ParseIssue, normalize_name
from audotics.problems import BadRequest, Conflict, NotFound, Problem
from audotics.services.analytics import service as analytics
from audotics.services.analytics.schemas import (
    ItemKind,
    ListenEvent,
    NewListen,
    NewPlayCount,
    check_occurred_at,
)
from audotics.services.catalog import service as catalog
from audotics.services.users import service as users
from audotics.services.users.schemas import Role

FORMATS: tuple[str, ...] = ("lastfm-hetrec", "listenbrainz", "scrobble-csv", "csv")
BATCH_SIZE = 1000
MAX_COPIES = 1000  # a timestamped row stands for at most this many listens
IMPORTED_EMAIL_DOMAIN = "imported.audotics.example"
MAX_REPORTED_ISSUES = 20
_NOT_USERNAME = re.compile(r"[^a-z0-9_-]+")
K = TypeVar("K")
V = TypeVar("V")


@dataclass
class ImportReport:
    format: str
    rows: int = 0  # good rows read
    bad_rows: int = 0
    issues: list[ParseIssue] = field(default_factory=list)  # the first few
    listens_new: int = 0
    listens_duplicate: int = 0
    counts_written: int = 0
    counts_unchanged: int = 0
    users_created: int = 0
    artists: int = 0
    tracks: int = 0
    artists_tagged: int = 0
    follows_new: int = 0
    seconds: float = 0.0

    def bad(self, line: int, reason: str) -> None:
        self.bad_rows += 1
        if len(self.issues) < MAX_REPORTED_ISSUES:
            self.issues.append(ParseIssue(line, reason))

    @property
    def rows_per_s(self) -> float:
        return (self.rows + self.bad_rows) / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.format}: {self.rows} rows imported, {self.bad_rows} bad rows skipped "
            f"in {self.seconds:.1f} s ({self.rows_per_s:,.0f} rows/s)",
            f"listens: {self.listens_new} new, {self.listens_duplicate} already stored; "
            f"play counts: {self.counts_written} written, {self.counts_unchanged} unchanged",
            f"catalog: {self.artists} artists, {self.tracks} tracks matched or created, "
            f"{self.artists_tagged} artists given genres; "
            f"{self.users_created} accounts created, {self.follows_new} follows added",
        ]
        out += [f"  bad row: {_where(issue.line)}{issue.reason}" for issue in self.issues]
        if self.bad_rows > len(self.issues):
            out.append(f"  ... and {self.bad_rows - len(self.issues)} more bad rows")
        return out


def _where(line: int) -> str:
    return f"line {line}: " if line else ""


def imported_username(prefix: str, raw: str) -> str:
    """``<prefix>-<slug>`` within 3-32 of a-z 0-9 _ -; a short hash keeps altered ids apart."""
    slug = _NOT_USERNAME.sub("-", raw.strip().lower()).strip("-_")
    room = 32 - len(prefix) - 1
    if slug == raw and len(slug) <= room:
        return f"{prefix}-{slug}"
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{prefix}-{slug[: room - 9].strip('-_')}-{digest}".replace("--", "-")


class Importer:
    """One import run: caches names -> ids and keeps the report."""

    def __init__(
        self,
        infra: Infra,
        config: users.AuthConfig,
        fmt: str,
        *,
        batch_size: int = BATCH_SIZE,
        progress: bars.Progress | None = None,
    ) -> None:
        self.infra, self.config, self.format = infra, config, fmt
        self.progress, self.task = progress, bars.TaskID(0)
        self.source = f"import:{fmt}"
        self.batch_size = batch_size
        self.report = ImportReport(fmt)
        self._users: dict[str, uuid.UUID] = {}
        self._refused: dict[str, str] = {}
        self._distinct: set[uuid.UUID] = set()
        self._artists: dict[str, uuid.UUID] = {}
        self._tracks: dict[tuple[str, str], tuple[uuid.UUID, uuid.UUID]] = {}
        self._counts: dict[tuple[uuid.UUID, ItemKind, uuid.UUID], int] = defaultdict(int)
        self._new: dict[uuid.UUID, int] = defaultdict(int)
        self._new_tracks: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)

    def phase(self, description: str, total: int | None) -> None:
        if self.progress is not None:
            self.task = self.progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, amount)

    # --- names -> ids ---------------------------------------------------------------------

    async def existing_user(self, session: AsyncSession, username: str) -> uuid.UUID:
        if username not in self._users:
            self._users[username] = (await users.get_user_by_username(session, username)).id
        return self._users[username]

    async def imported_user(self, session: AsyncSession, prefix: str, raw: str) -> uuid.UUID:
        """The account an importer made for ``raw``, created when new."""
        username = imported_username(prefix, raw)
        if username in self._refused:
            raise Conflict(self._refused[username])
        if username in self._users:
            return self._users[username]
        try:
            found = await users.get_user_by_username(session, username)
        except NotFound:
            email, password = f"{username}@{IMPORTED_EMAIL_DOMAIN}", secrets.token_urlsafe(32)
            found = await users.ensure_user(
                session, self.config, email, username, password, Role.listener
            )
            await analytics.record_imported_account(
                session, found.id, source=self.source, external_id=raw
            )
            self.report.users_created += 1
        else:
            if not await analytics.is_imported_account(session, found.id):
                self._refused[username] = f"{username!r} is an account no import created"
                raise Conflict(self._refused[username])
        self._users[username] = found.id
        return found.id

    async def artist(self, session: AsyncSession, name: str) -> uuid.UUID:
        key = normalize_name(name)
        if key not in self._artists:
            self._artists[key] = (await catalog.find_or_create_artist(session, name)).id
            self._seen(self._artists[key])
        return self._artists[key]

    async def track(
        self, session: AsyncSession, artist: str, title: str, duration_s: float | None
    ) -> tuple[uuid.UUID, uuid.UUID]:
        key = (normalize_name(artist), normalize_name(title))
        if key not in self._tracks:
            found = await catalog.find_or_create_track(
                session, artist=artist, title=title, duration_s=duration_s
            )
            self._tracks[key] = (found.id, found.artist.id)
            self._artists.setdefault(key[0], found.artist.id)
            self._seen(found.artist.id)
            self._seen(found.id, track=True)
        return self._tracks[key]

    def _seen(self, row_id: uuid.UUID, *, track: bool = False) -> None:
        """Count distinct catalog rows (two spellings may name one)."""
        if row_id not in self._distinct:
            self._distinct.add(row_id)
            if track:
                self.report.tracks += 1
            else:
                self.report.artists += 1

    # --- listening records ----------------------------------------------------------------

    async def records(
        self, items: Iterable[ListenRecord | ParseIssue], username: str | None
    ) -> None:
        """Stream parser output in batches: listens and play counts, users per ``username``."""
        batch: list[ListenRecord | ParseIssue] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                await self._record_batch(batch, username)
                batch = []
        if batch:
            await self._record_batch(batch, username)
        await self.flush_counts()
        for user_id, new in self._new.items():
            await analytics.publish_recorded(
                self.infra.events, user_id, new, self._new_tracks[user_id], self.source
            )

    async def _record_batch(
        self, batch: list[ListenRecord | ParseIssue], username: str | None
    ) -> None:
        listens: list[NewListen] = []
        async with self.infra.db.session() as session:
            for number, item in enumerate(batch, start=self.report.rows + self.report.bad_rows + 1):
                if isinstance(item, ParseIssue):
                    self.report.bad(item.line, item.reason)
                    continue
                try:
                    listens += await self._resolve(session, item, username)
                except (Problem, ValueError) as exc:
                    where = f"{item.artist} - {item.track}"[:80]
                    self.report.bad(0, f"record #{number} ({where}): {exc}")
                    continue
                self.report.rows += 1
            stored = await analytics.store_listens(session, listens)
        self.report.listens_new += stored.new
        self.report.listens_duplicate += stored.received - stored.new
        for user_id, new in stored.new_by_user.items():
            self._new[user_id] += new
            if len(self._new_tracks[user_id]) < 1000:  # the event names at most 1000
                self._new_tracks[user_id] += stored.tracks_by_user.get(user_id, [])[:1000]
        self.advance(len(batch))

    async def _resolve(
        self, session: AsyncSession, record: ListenRecord, username: str | None
    ) -> list[NewListen]:
        if record.track is None:
            raise ValueError("no track title")
        if record.timestamp is not None:
            moment = check_occurred_at(record.timestamp)  # ValueError: out of range
            if record.count > MAX_COPIES:
                raise ValueError(f"count {record.count} above {MAX_COPIES} for one timestamp")
        if username is not None:
            user_id = await self.existing_user(session, username)
        else:
            user_id = await self.imported_user(session, "imp", record.user)
        track_id, artist_id = await self.track(
            session, record.artist, record.track, record.duration_s
        )
        if record.timestamp is None:
            self._counts[(user_id, ItemKind.track, track_id)] += record.count
            self._counts[(user_id, ItemKind.artist, artist_id)] += record.count
            return []
        event = ListenEvent(record.event)
        return [
            NewListen(
                user_id=user_id,
                track_id=track_id,
                artist_id=artist_id,
                event=event,
                occurred_at=moment,
                play_duration_s=None,  # a file's duration is the track's, not the listening's
                source=self.source,
                dedup_key=analytics.dedup_key(track_id, event, moment, occurrence=copy),
            )
            for copy in range(record.count)
        ]

    async def flush_counts(self) -> None:
        """Write the play counts gathered so far (totals over the whole file)."""
        counts = [
            NewPlayCount(user_id, kind, item_id, plays, self.source)
            for (user_id, kind, item_id), plays in self._counts.items()
        ]
        self._counts.clear()
        for start in range(0, len(counts), self.batch_size):
            async with self.infra.db.session() as session:
                result = await analytics.set_play_counts(
                    session, counts[start : start + self.batch_size]
                )
            self.report.counts_written += result.written
            self.report.counts_unchanged += result.unchanged

    # --- Last.fm HetRec ---------------------------------------------------------------------

    async def each(
        self, what: str, keys: list[K], resolve: Callable[[AsyncSession, K], Awaitable[V]]
    ) -> dict[K, V]:
        """``resolve`` every key, a transaction per batch; a refused key is a bad row."""
        found: dict[K, V] = {}
        self.phase(what, len(keys))
        for part in _chunks(keys, self.batch_size):
            async with self.infra.db.session() as session:
                for key in part:
                    try:
                        found[key] = await resolve(session, key)
                    except Problem as exc:
                        self.report.bad(0, f"{what} {key}: {exc}")
            self.advance(len(part))
        return found

    async def hetrec(self, directory: Path) -> None:
        data = datasets.load_lastfm_hetrec(directory)
        for issue in data.issues:
            self.report.bad(issue.line, issue.reason)
        columns = (data.play_user.tolist(), data.play_artist.tolist(), data.play_weight.tolist())
        plays = list(zip(*columns, strict=True))
        friends = [(int(a), int(b)) for a, b in data.friends.tolist()]
        accounts = await self.each(
            "accounts",
            sorted({u for u, _, _ in plays} | {u for pair in friends for u in pair}),
            lambda session, user: self.imported_user(session, "lastfm", str(user)),
        )
        artists = await self.each(
            "artists",
            sorted({a for _, a, _ in plays}),
            lambda session, artist: self.artist(session, data.artist_name(artist)),
        )
        self.phase("play counts", len(plays))
        for user, artist, weight in plays:
            if user in accounts and artist in artists:
                self._counts[(accounts[user], ItemKind.artist, artists[artist])] += weight
                self.report.rows += 1
            else:
                self.report.bad(0, f"play of artist {artist} by user {user}: not imported")
        await self.flush_counts()
        self.advance(len(plays))

        # Each artist's most assigned tags (ties by name) become its genres.
        per_artist: dict[int, list[tuple[int, str]]] = defaultdict(list)
        tags = zip(data.tag_artist.tolist(), data.tag_id.tolist(), strict=True)
        for (artist, tag), times in Counter(tags).items():
            name = data.tag_names.get(tag, "").strip()
            if artist in artists and name:
                per_artist[artist].append((-times, name))
        self.report.rows += len(data.tag_artist)
        tagged = await self.each(
            "genres",
            sorted(per_artist),
            lambda session, artist: catalog.add_artist_genres(
                session, artists[artist], [name for _, name in sorted(per_artist[artist])[:5]]
            ),
        )
        self.report.artists_tagged += len(tagged)

        edges = [(accounts[a], accounts[b]) for a, b in friends if a in accounts and b in accounts]
        self.phase("follows", len(edges))
        for part in _chunks(edges, self.batch_size * 5):
            async with self.infra.db.session() as session:
                self.report.follows_new += await analytics.add_follows(
                    session, part, source=self.source
                )
            self.advance(len(part))
        self.report.rows += len(friends)


def _chunks(items: list[K], size: int) -> Iterator[list[K]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def run_import(
    settings: Settings,
    path: Path,
    fmt: str,
    *,
    username: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: bars.Progress | None = None,
) -> ImportReport:
    """Migrate the database, then import ``path``; BadRequest/NotFound for unusable arguments."""
    check_arguments(path, fmt, username)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url)
    infra = build_infra(settings)
    try:
        # Imported accounts' passwords are random and never told: cost buys nothing there.
        cheap = settings.model_copy(update={"argon2_time_cost": 1, "argon2_memory_kib": 1024})
        config = users.AuthConfig.from_settings(cheap, signing_secret(settings))
        importer = Importer(infra, config, fmt, batch_size=batch_size, progress=progress)
        started = time.perf_counter()
        if fmt == "lastfm-hetrec":
            await importer.hetrec(path)
        else:
            if username is not None:
                async with infra.db.session() as session:
                    await importer.existing_user(session, username)
            items = {
                "listenbrainz": lambda: datasets.iter_listenbrainz(path, user=username),
                "scrobble-csv": lambda: datasets.iter_scrobble_csv(path, user=username),
                "csv": lambda: datasets.iter_generic_csv(path),
            }[fmt]()
            importer.phase("rows", _expected_rows(path, fmt))
            await importer.records(items, username)
        importer.report.seconds = time.perf_counter() - started
        return importer.report
    finally:
        await infra.close()


def check_arguments(path: Path, fmt: str, username: str | None) -> None:
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
    if fmt == "lastfm-hetrec" and username is not None:
        raise BadRequest("--user does not apply to lastfm-hetrec: its users become accounts.")
    if fmt in ("listenbrainz", "scrobble-csv") and username is None:
        raise BadRequest(f"--user is required for {fmt}: the listens are that account's.")
    if not (path.is_dir() if fmt == "lastfm-hetrec" else path.is_file()):
        kind = "a folder with the HetRec .dat files" if fmt == "lastfm-hetrec" else "a file"
        raise BadRequest(f"{path} is not {kind}.")


def _expected_rows(path: Path, fmt: str) -> int | None:
    """Lines in a CSV file, for the progress bar (JSON layouts vary: unknown)."""
    if fmt == "listenbrainz":
        return None
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - (1 if fmt == "csv" else 0))


def command(settings: Settings, path: str, fmt: str, username: str | None, batch_size: int) -> int:
    """``audotics import``: prints the report; exit code 0, 1 when no row could be used,
    2 for unusable arguments (unknown format or user, missing file)."""
    console = Console(stderr=True)
    columns = (bars.TextColumn("{task.description:>12}"), bars.BarColumn())
    try:
        shown = (*columns, bars.MofNCompleteColumn(), bars.TimeElapsedColumn())
        with bars.Progress(*shown, console=console) as progress:
            report = asyncio.run(
                run_import(
                    settings,
                    Path(path),
                    fmt,
                    username=username,
                    batch_size=batch_size,
                    progress=progress,
                )
            )
    except (Problem, FileNotFoundError) as exc:
        typer.echo(f"import failed: {exc}", err=True)
        return 2
    for line in report.lines():
        typer.echo(line)
    return 1 if report.rows == 0 and report.bad_rows else 0
