"""Listening-data parsers, the interaction log they feed, and a synthetic generator.

Parsers stream a file and yield :class:`ListenRecord` or :class:`ParseIssue` per
row, never raising on bad data: ``iter_listenbrainz``, ``iter_scrobble_csv``,
``iter_generic_csv``; ``load_lastfm_hetrec`` reads the HetRec 2011 files.
``load_interactions(path, format)`` turns any of them into an :class:`Interactions`
log; ``generate_synthetic`` makes one with planted structure.
"""

from audotics.ml.datasets.csvfiles import iter_generic_csv, iter_scrobble_csv
from audotics.ml.datasets.hetrec import HetRecData, load_lastfm_hetrec
from audotics.ml.datasets.interactions import (
    EVENT_CODE,
    FORMATS,
    Interactions,
    from_hetrec,
    from_records,
    load_interactions,
)
from audotics.ml.datasets.listenbrainz import iter_listenbrainz, listen_to_record
from audotics.ml.datasets.records import (
    EVENTS,
    ListenRecord,
    ParseIssue,
    item_key,
    normalize_name,
    parse_time,
    partition,
)
from audotics.ml.datasets.synthetic import FEATURE_NAMES, SyntheticData, generate_synthetic

__all__ = [
    "EVENTS",
    "EVENT_CODE",
    "FEATURE_NAMES",
    "FORMATS",
    "HetRecData",
    "Interactions",
    "ListenRecord",
    "ParseIssue",
    "SyntheticData",
    "from_hetrec",
    "from_records",
    "generate_synthetic",
    "item_key",
    "iter_generic_csv",
    "iter_listenbrainz",
    "iter_scrobble_csv",
    "listen_to_record",
    "load_interactions",
    "load_lastfm_hetrec",
    "normalize_name",
    "parse_time",
    "partition",
]
