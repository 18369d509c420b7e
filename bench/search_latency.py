"""Search latency: our index against a LIKE scan, over synthetic tracks, per database backend.

    python -m bench search_latency [--tracks 100000] [--backends sqlite,postgresql]

Loads the same deterministic tracks into a fresh SQLite file and a throwaway
PostgreSQL server (migrated with Alembic, indexed through the search service
in batches), then times a fixed set of queries (exact words, prefixes, typos,
several words) through ``search.service.search`` and, in the same run,
through ``LIKE '%q%'`` (``ILIKE`` on PostgreSQL) over title, subtitle and
keywords ordered by popularity (through the same index ours uses). Also
reports how often each finds the track a query was made from in its first 20
results ("found@20").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from audotics.infra import migrate
from audotics.infra.db import Database
from audotics.services.search import service
from audotics.services.search.query_plan import docs
from audotics.services.search.schemas import DocumentKind, SearchDocument, SearchQuery

RESULTS = Path(__file__).parent / "results" / "search_latency.json"
PAGE = 20
CATEGORIES = ("exact", "prefix", "typo", "multi")


def _word_list(text: str) -> list[str]:
    return text.split()


COMMON_WORDS = _word_list("""
love heart night day time life dream world baby girl boy fire rain sun moon star light dark
blue red gold black white summer winter home road river city street dance party song music
heaven angel devil soul mind body eyes hands kiss tears blood money gold queen king crazy wild
free lonely broken forever tonight tomorrow yesterday morning midnight sunrise sunset ocean
sea sky wind storm thunder lightning shadow ghost memory memories golden silver diamond stone
paradise highway hotel california london paris berlin tokyo desert mountain valley garden
flower rose honey sugar sweet bitter cold warm hot electric magic mystery secret lie truth
fool hero lover stranger friend enemy war peace freedom revolution rebel runaway radio
television machine robot future past yesterday alive dead young old forever never always
again together alone somebody nobody everybody everything nothing something running falling
flying dreaming waiting burning shining crying dancing singing talking walking breaking
holding calling fading rising""")
GENRES = _word_list("""
rock pop jazz blues soul funk disco house techno trance ambient metal punk folk
country reggae hiphop rap electronic indie alternative classical opera gospel grunge dubstep
drumandbass garage synthpop newwave shoegaze psychedelic bossanova salsa afrobeat kpop jpop
lofi trap""")
FIRST_NAMES = _word_list("""
john paul george ringo david robert james mary patricia linda barbara
elizabeth jennifer maria susan michael william richard joseph thomas charles sarah karen nancy
lisa betty helen sandra donna carol ruth sharon michelle laura emily kevin brian edward ronald
anthony kenneth steven jason matthew gary timothy jose larry jeffrey frank scott eric stephen
andrew raymond gregory joshua jerry dennis walter patrick peter harold douglas henry carl arthur
ryan roger bjork sinead zoe chloe amelie renee""")
SYLLABLES = _word_list("""
ka lo mi ra ne to su vi la de mo ri sa no ke ta bu ze fa gi ho ju ly
pe qu ro si tu ve wa xi yo zu an el in on un ar er ir or ur bra cle dri flo gra pla
sto tri vel mar ton rin sel dor fin gal han kel lum mor nix pol ros tam vin""")


@dataclass
class Latency:
    p50_ms: float
    p99_ms: float
    mean_ms: float
    found_at_20: float  # share of queries whose source track is in the first page
    found_at_20_by_category: dict[str, float]


@dataclass
class BackendResult:
    backend: str
    tracks: int
    index_seconds: float
    ours: Latency
    baseline: Latency
    ratio_p50: float
    ratio_p99: float
    ratio_mean: float
    load_average: tuple[
        float, float, float
    ]  # 1, 5, 15 minutes, at the end: timings need a quiet machine


# --- synthetic data ---------------------------------------------------------------------


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4))))


def _zipf_picker(rng: random.Random, words: list[str]) -> Callable[[], str]:
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(words))]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return lambda: rng.choices(words, cum_weights=cumulative)[0]


def generate_tracks(count: int, seed: int) -> list[SearchDocument]:
    rng = random.Random(seed)
    vocabulary = COMMON_WORDS + sorted({_pseudo_word(rng) for _ in range(6000)})
    rng.shuffle(vocabulary)
    word = _zipf_picker(rng, vocabulary)
    artists = []
    for _ in range(max(10, count // 20)):
        style = rng.random()
        if style < 0.3:
            name = f"the {word()}s"
        elif style < 0.6:
            name = f"{rng.choice(FIRST_NAMES)} {_pseudo_word(rng)}"
        else:
            name = " ".join(word() for _ in range(rng.choice((1, 1, 2))))
        artists.append((name.title(), rng.sample(GENRES, rng.choice((1, 2, 3)))))
    tracks = []
    for _ in range(count):
        artist, genres = rng.choice(artists)
        title = " ".join(word() for _ in range(rng.choice((1, 2, 2, 3, 3, 4, 5)))).title()
        album = " ".join(word() for _ in range(rng.choice((1, 2, 3)))).title()
        tracks.append(
            SearchDocument(
                kind=DocumentKind.track,
                ref_id=uuid.UUID(int=rng.getrandbits(128)),
                title=title,
                subtitle=artist,
                keywords=" ".join([album, *genres]),
                popularity=round(rng.paretovariate(1.5), 3),
                payload={"artist_name": artist, "album_title": album},
                tempo_bpm=round(rng.uniform(60, 180), 1),
                key=rng.choice(("C", "C#", "D", "E", "F", "G", "A", "B")),
                mode=rng.choice(("major", "minor")),
                energy=round(rng.random(), 3),
                danceability=round(rng.random(), 3),
                valence=round(rng.random(), 3),
            )
        )
    return tracks


def _typo(rng: random.Random, word: str) -> str:
    at = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("substitute", "delete", "insert", "transpose"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if edit == "substitute":
        return word[:at] + letter + word[at + 1 :]
    if edit == "delete":
        return word[:at] + word[at + 1 :]
    if edit == "insert":
        return word[:at] + letter + word[at:]
    return word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]


def generate_queries(
    tracks: list[SearchDocument], count: int, seed: int
) -> list[tuple[str, str, uuid.UUID]]:
    """(category, query, the track it came from): a quarter each of four kinds."""
    rng = random.Random(seed + 1)
    queries: list[tuple[str, str, uuid.UUID]] = []
    kinds = CATEGORIES
    while len(queries) < count:
        track = rng.choice(tracks)
        words = (track.title + " " + track.subtitle).lower().split()
        category = kinds[len(queries) % len(kinds)]
        if category == "exact":
            text = rng.choice(words)
        elif category == "prefix":
            chosen = rng.choice(words)
            text = chosen[: rng.randint(3, max(3, len(chosen) - 1))]
        elif category == "typo":
            long_words = [w for w in words if len(w) >= 5]
            if not long_words:
                continue
            text = _typo(rng, rng.choice(long_words))
        else:
            title_words = track.title.lower().split()
            if len(title_words) >= 2:
                start = rng.randrange(len(title_words) - 1)
                text = " ".join(title_words[start : start + 2])
            else:
                text = f"{title_words[0]} {track.subtitle.lower().split()[0]}"
        queries.append((category, text, track.ref_id))
    return queries


# --- running ----------------------------------------------------------------------------


def _batches(items: list[SearchDocument], size: int) -> Iterator[list[SearchDocument]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def load(db: Database, tracks: list[SearchDocument], batch: int) -> float:
    started = time.perf_counter()
    for chunk in _batches(tracks, batch):
        async with db.session() as session:
            await service.index_documents(session, chunk)
    elapsed = time.perf_counter() - started
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    return elapsed


async def run_ours(session: AsyncSession, text: str) -> list[uuid.UUID]:
    results = await service.search(session, SearchQuery(text=text, limit=PAGE), None)
    return [hit.id for hit in results.hits]


async def run_baseline(session: AsyncSession, text: str) -> list[uuid.UUID]:
    columns = (docs.c.title, docs.c.subtitle, docs.c.keywords)
    if session.get_bind().dialect.name == "postgresql":
        matches = [column.icontains(text, autoescape=True) for column in columns]
    else:  # SQLite's LIKE ignores ASCII case already
        matches = [column.contains(text, autoescape=True) for column in columns]
    statement = (
        select(docs.c.kind, docs.c.ref_id, docs.c.title, docs.c.subtitle, docs.c.payload)
        .where(or_(*matches), docs.c.owner_id.is_(None))
        # rank_key is popularity as an indexed integer: the baseline gets the same index.
        .order_by(docs.c.rank_key.desc(), docs.c.id.desc())
        .limit(PAGE)
    )
    rows = (await session.execute(statement)).all()
    return [row.ref_id for row in rows]


def _summary(timings: list[float], found: list[tuple[str, bool]]) -> Latency:
    ordered = sorted(timings)
    by_category = {
        category: round(statistics.fmean(hit for c, hit in found if c == category), 3)
        for category in CATEGORIES
        if any(c == category for c, _ in found)
    }
    return Latency(
        p50_ms=round(statistics.median(ordered) * 1000, 3),
        p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        mean_ms=round(statistics.fmean(ordered) * 1000, 3),
        found_at_20=round(statistics.fmean(hit for _, hit in found), 3),
        found_at_20_by_category=by_category,
    )


async def measure(
    db: Database, queries: list[tuple[str, str, uuid.UUID]]
) -> tuple[Latency, Latency]:
    """Query time on one open connection: connection set-up is the same for both, left out."""
    timings: dict[str, list[float]] = {"ours": [], "baseline": []}
    found: dict[str, list[tuple[str, bool]]] = {"ours": [], "baseline": []}
    runners = {"ours": run_ours, "baseline": run_baseline}
    async with db.session() as session:
        for _, text, _ in queries[:30]:  # warm caches and prepared statements
            await run_ours(session, text)
            await run_baseline(session, text)
        for category, text, source in queries:  # interleaved, so drift hits both alike
            for name, runner in runners.items():
                started = time.perf_counter()
                ids = await runner(session, text)
                timings[name].append(time.perf_counter() - started)
                found[name].append((category, source in ids))
    return (
        _summary(timings["ours"], found["ours"]),
        _summary(timings["baseline"], found["baseline"]),
    )


async def bench_backend(
    backend: str, url: str, tracks: list[SearchDocument], queries: Any, batch: int
) -> BackendResult:
    migrate.upgrade(url)
    db = Database(url)
    try:
        index_seconds = await load(db, tracks, batch)
        ours, baseline = await measure(db, queries)
    finally:
        await db.dispose()
    return BackendResult(
        backend=backend,
        tracks=len(tracks),
        index_seconds=round(index_seconds, 2),
        ours=ours,
        baseline=baseline,
        ratio_p50=round(baseline.p50_ms / ours.p50_ms, 2),
        ratio_p99=round(baseline.p99_ms / ours.p99_ms, 2),
        ratio_mean=round(baseline.mean_ms / ours.mean_ms, 2),
        load_average=_load_average(),
    )


def _load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _sqlite(tracks: list[SearchDocument], queries: Any, batch: int) -> BackendResult:
    with tempfile.TemporaryDirectory(prefix="audotics-bench-") as directory:
        url = f"sqlite+aiosqlite:///{directory}/search.db"
        return asyncio.run(bench_backend("sqlite", url, tracks, queries, batch))


def _postgresql(tracks: list[SearchDocument], queries: Any, batch: int) -> BackendResult:
    # The test suite's throwaway server: initdb in a temporary directory, loopback only.
    from tests.support.postgres import PostgresServer, find_or_install_pg_bin

    bin_dir = find_or_install_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not found (make system-deps installs them)")
    server = PostgresServer.start(bin_dir)
    try:

        async def create_database() -> None:
            conn = await asyncpg.connect(server.url().replace("postgresql+asyncpg", "postgresql"))
            try:
                await conn.execute("CREATE DATABASE bench")
            finally:
                await conn.close()

        asyncio.run(create_database())
        url = server.url("bench")
        return asyncio.run(bench_backend("postgresql", url, tracks, queries, batch))
    finally:
        server.stop()


def _print(result: BackendResult, queries: int) -> None:
    print(
        f"\n{result.backend}: {result.tracks} tracks indexed in {result.index_seconds:.1f} s, "
        f"{queries} queries"
    )
    print(f"{'':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'found@20':>10}")
    for name, figures in (("ours (index)", result.ours), ("baseline (LIKE)", result.baseline)):
        print(
            f"{name:<22}{figures.p50_ms:>10.2f}{figures.p99_ms:>10.2f}{figures.mean_ms:>10.2f}"
            f"{figures.found_at_20:>10.2f}"
        )
    print(
        f"{'ratio baseline/ours':<22}{result.ratio_p50:>10.2f}{result.ratio_p99:>10.2f}"
        f"{result.ratio_mean:>10.2f}"
    )
    for name, figures in (("ours", result.ours), ("baseline", result.baseline)):
        shares = ", ".join(f"{c} {v:.2f}" for c, v in figures.found_at_20_by_category.items())
        print(f"found@20 {name}: {shares}")
    print(f"load average during the run: {result.load_average}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench search_latency", description=__doc__)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=1000, help="documents per index call")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    runners = {"sqlite": _sqlite, "postgresql": _postgresql}
    unknown = set(backends) - set(runners)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")

    tracks = generate_tracks(args.tracks, args.seed)
    queries = generate_queries(tracks, args.queries, args.seed)
    results = []
    for backend in backends:
        result = runners[backend](tracks, queries, args.batch)
        _print(result, len(queries))
        results.append(result)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "search_latency",
        "tracks": args.tracks,
        "queries": len(queries),
        "query_mix": {
            category: sum(query[0] == category for query in queries) for category in CATEGORIES
        },
        "seed": args.seed,
        "results": [asdict(result) for result in results],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0
