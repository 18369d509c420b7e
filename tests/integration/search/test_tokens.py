"""Words, folding and the typo index's variants (pure functions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from audotics.services.search import tokens
from audotics.services.search.models import float32, rank_key_of
from audotics.services.search.query_plan import (
    ALL_WORDS,
    BROWSE,
    PHRASE,
    PREFIX,
    TYPO,
    Check,
    QueryWord,
    SearchPlan,
    parse_words,
    shape_of,
)
from audotics.services.search.schemas import SearchFilters


def test_words_are_split_on_anything_but_letters_and_digits() -> None:
    assert tokens.words("AC/DC — Highway_to Hell (Live, 1979)") == [
        "AC", "DC", "Highway", "to", "Hell", "Live", "1979",
    ]  # fmt: skip
    assert tokens.folded_words("Björk Guðmundsdóttir ÉMILE") == ["bjork", "guðmundsdottir", "emile"]
    assert tokens.words('"" OR * NEAR( \x00') == ["OR", "NEAR"]


def test_the_last_word_is_a_prefix_once_it_has_two_letters() -> None:
    assert [(w.text, w.prefix) for w in parse_words("the beat")] == [
        ("the", False),
        ("beat", True),
    ]
    assert parse_words("a b")[-1].prefix is False
    assert len(parse_words("x " * 100)) == tokens.MAX_QUERY_WORDS


def test_typo_budget_grows_with_length_and_spares_numbers() -> None:
    budgets = {w: tokens.typo_budget(w) for w in ("abc", "abcd", "abcdefg", "abcdefgh", "1999")}
    assert budgets == {"abc": 0, "abcd": 1, "abcdefg": 1, "abcdefgh": 2, "1999": 0}
    assert tokens.typo_budget("a" * (tokens.MAX_TYPO_LENGTH + 1)) == 0


def test_edit_distance_counts_a_transposition_once() -> None:
    assert tokens.edit_distance("beatels", "beatles", 2) == 1
    assert tokens.edit_distance("radiohed", "radiohead", 2) == 1
    assert tokens.edit_distance("kitten", "sitting", 5) == 3
    assert tokens.edit_distance("abc", "abcdef", 1) == 2  # capped at limit + 1


def test_tiers_skip_conditions_that_cannot_hold_different_rows() -> None:
    def plan(*words: QueryWord) -> SearchPlan:
        return SearchPlan(words, SearchFilters(), None, None, 20, 0)

    one = QueryWord("beat", prefix=True)
    assert plan(one).tiers() == [(Check.all_words, PHRASE), (Check.broad, PREFIX)]
    typo = QueryWord("beat", prefix=True, typos=("heat",))
    assert plan(typo).tiers() == [
        (Check.all_words, PHRASE),
        (Check.prefix, PREFIX),
        (Check.broad, TYPO),
    ]
    two = (QueryWord("abbey", prefix=False), QueryWord("r", prefix=False))
    assert plan(*two).tiers() == [(Check.phrase, PHRASE), (Check.broad, ALL_WORDS)]
    assert plan().tiers() == []
    assert shape_of(plan(typo), has_ln=True).broad_tier == TYPO
    assert shape_of(plan(), has_ln=True).broad_tier == BROWSE


words_ = st.text(alphabet="abcdefghij", min_size=3, max_size=12)


@settings(max_examples=300, deadline=None)
@given(term=words_, query=words_)
def test_variants_find_every_term_within_the_typo_budget(term: str, query: str) -> None:
    """The index's promise: a term within budget always shares a stored variant."""
    budget = tokens.typo_budget(query)
    if not tokens.is_vocabulary_term(term):
        return
    shares = bool(tokens.term_variants(term) & tokens.query_variants(query))
    within = tokens.edit_distance(query, term, budget) <= budget
    if budget and within:
        assert shares


@settings(max_examples=200, deadline=None)
@given(
    word=words_,
    edits=st.lists(st.tuples(st.integers(0, 11), st.sampled_from("abcxyz")), max_size=2),
)
def test_one_or_two_edits_of_a_long_word_are_found(word: str, edits: list[tuple[int, str]]) -> None:
    typed = word
    for position, letter in edits:
        at = position % len(typed)
        typed = typed[:at] + letter + typed[at + 1 :]
    distance = tokens.edit_distance(typed, word, 2)
    if distance <= tokens.typo_budget(typed) and tokens.is_vocabulary_term(word):
        assert tokens.term_variants(word) & tokens.query_variants(typed)


@settings(max_examples=300, deadline=None)
@given(a=st.floats(min_value=0.0, allow_nan=False), b=st.floats(min_value=0.0, allow_nan=False))
def test_rank_keys_sort_like_the_stored_popularity(a: float, b: float) -> None:
    assert 0 <= rank_key_of(a) < 2**31  # fits the FTS5 rowid's upper half
    if float32(a) < float32(b):
        assert rank_key_of(a) < rank_key_of(b)
    if float32(a) == float32(b):
        assert rank_key_of(a) == rank_key_of(b)
    assert rank_key_of(-0.0) == rank_key_of(0.0) == 0
