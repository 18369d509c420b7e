"""Text analysis shared by indexing and querying: words, folding and typo variants.

Typo tolerance uses a deletion neighbourhood (the SymSpell idea): two words
within edit distance k share a string obtained by deleting at most k
characters from each. The index stores the deletions of every vocabulary
term; a query generates the deletions of each word and looks them up, then
keeps only the terms really within the allowed distance. Unlike trigram
similarity this finds every such term, short words and transpositions
included, and behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import combinations

# Letters and digits in any script; "_" and punctuation separate words, as in
# the FTS5 unicode61 tokenizer and our PostgreSQL folding.
_WORD = re.compile(r"[^\W_]+")

MAX_QUERY_WORDS = 12
MAX_WORD_LENGTH = 64
MIN_PREFIX_LENGTH = 2
MIN_TYPO_LENGTH = 4  # one typo from here
TWO_TYPOS_LENGTH = 8  # two typos from here
# Variants grow quadratically with length; longer words are matched exactly.
MAX_TYPO_LENGTH = 20
MAX_TERM_LENGTH = MAX_TYPO_LENGTH + 2


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text))


def fold(word: str) -> str:
    """Lower case without diacritics: ``"Björk"`` -> ``"bjork"``."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def folded_words(text: str) -> list[str]:
    return [w for w in (fold(raw) for raw in words(text)) if w]


def typo_budget(word: str) -> int:
    """Edit distance tolerated for a query word: numbers and short words are exact."""
    if not word.isalpha() or not MIN_TYPO_LENGTH <= len(word) <= MAX_TYPO_LENGTH:
        return 0
    return 1 if len(word) < TWO_TYPOS_LENGTH else 2


def deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string made by deleting up to ``depth`` characters."""
    found = {word}
    for count in range(1, min(depth, len(word) - 1) + 1):
        for positions in combinations(range(len(word)), count):
            skip = set(positions)
            found.add("".join(ch for i, ch in enumerate(word) if i not in skip))
    return found


def is_vocabulary_term(term: str) -> bool:
    return term.isalpha() and MIN_TYPO_LENGTH - 1 <= len(term) <= MAX_TERM_LENGTH


def term_variants(term: str) -> set[str]:
    """What the index stores for a vocabulary term.

    Deleting up to 2 characters is needed only from terms of 8+ characters: a
    shorter term within distance 2 of an 8+ character query word differs from
    it by at least one insertion, which the query side's deletions cover.
    """
    return deletions(term, 2 if len(term) >= TWO_TYPOS_LENGTH else 1)


def query_variants(word: str) -> set[str]:
    return deletions(word, typo_budget(word))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition is one edit), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity on single words: shared padded trigrams over all trigrams."""

    def grams(word: str) -> set[str]:
        padded = f"  {word} "
        return {padded[i : i + 3] for i in range(len(padded) - 2)}

    left, right = grams(a), grams(b)
    return len(left & right) / len(left | right)
