"""Cleaning display names and deriving the keys that names are matched on.

"The Beatles", "beatles", "Beatles, The" and "THE BEATLES!" are one artist to an
importer, so matching uses a normalised key while the display name keeps what
was first typed.
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 300
GENRE_MAX = 60

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_LEADING_ARTICLE = re.compile(r"^the\s+")
_TRAILING_ARTICLE = re.compile(r",\s*the$")
# Joiners inside a word ("Jay-Z", "AC/DC") become spaces; apostrophes vanish ("Guns N' Roses").
_JOINERS = re.compile(r"[-_/\\.:;,+|~]")
_APOSTROPHES = re.compile(r"['`\u00b4\u2018\u2019\u02bc]")
_LATIN_MAX = 0x024F  # Basic Latin to Latin Extended-B


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))


def clean_name(text: str, max_length: int = NAME_MAX) -> str:
    """A display name: control characters dropped, whitespace collapsed, length capped."""
    cleaned = _SPACES.sub(" ", _CONTROL.sub(" ", unicodedata.normalize("NFC", text))).strip()
    return cleaned[:max_length].rstrip()


def _fold_latin_accents(text: str) -> str:
    """Drop accents on Latin letters ("Rós" -> "ros") but keep marks other scripts need.

    Stripping every combining mark would merge distinct Japanese kana (か/が).
    """
    out: list[str] = []
    base_is_latin = False
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            if base_is_latin:
                continue
        else:
            base_is_latin = ord(char) <= _LATIN_MAX
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def _key(text: str, max_length: int, drop_article: bool) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _SPACES.sub(" ", _CONTROL.sub(" ", folded)).strip()
    literal = folded
    if drop_article:
        stripped = _TRAILING_ARTICLE.sub("", _LEADING_ARTICLE.sub("", folded)).strip()
        folded = stripped or folded  # "The The" keeps a name
    folded = _fold_latin_accents(folded).replace("&", " and ")
    folded = _APOSTROPHES.sub("", folded)
    folded = _JOINERS.sub(" ", folded)
    # Remaining punctuation and symbols carry no identity ("P!nk" == "Pnk").
    folded = "".join(
        char if not unicodedata.category(char).startswith(("P", "S")) else " " for char in folded
    )
    folded = _SPACES.sub(" ", folded).strip()
    # A name made only of punctuation ("!!!") still needs a key of its own.
    return (folded or literal)[:max_length]


def name_key(name: str) -> str:
    """Matching key for artist names and album/track titles."""
    return _key(name, NAME_MAX, drop_article=True)


def title_key(title: str) -> str:
    """Matching key for titles: like names, but "The Wall" stays distinct from "Wall"."""
    return _key(title, NAME_MAX, drop_article=False)


def genre_key(name: str) -> str:
    """Matching key for genres: "Hip-Hop", "hip hop" and "HIP_HOP" are one genre."""
    return _key(name, GENRE_MAX, drop_article=False)
