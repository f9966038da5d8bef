"""The council's rules as data (storage.council_rules), the decision typed by the office, and
the ballot's and tally's screens at hostile sizes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.ballot import PER_PAGE, screen
from handlers.council_decision import parse_decision
from messages import render
from messages.long_text import MAX_TEXT, pack_blocks, visible_length
from storage.ballots import Ballot, BallotLine
from storage.council_rules import (
    Comparison,
    VoteRule,
    parse_share,
    quorum_of,
    vote_rule_of,
)
from storage.council_tally import AwardCount, Counted


@pytest.mark.parametrize(
    ("text", "fraction", "comparison"),
    [
        ("≥ 2/3", Fraction(2, 3), Comparison.AT_LEAST),
        (">= 90%", Fraction(9, 10), Comparison.AT_LEAST),
        ("> 50%", Fraction(1, 2), Comparison.MORE_THAN),
        ("2/3", Fraction(2, 3), Comparison.AT_LEAST),
        ("80 %", Fraction(4, 5), Comparison.AT_LEAST),
        ("≥66,5%", Fraction(133, 200), Comparison.AT_LEAST),
    ],
)
def test_shares_as_the_rules_of_procedure_write_them(
    text: str, fraction: Fraction, comparison: Comparison
) -> None:
    share = parse_share(text)
    assert (share.fraction, share.comparison) == (fraction, comparison)
    assert parse_share(str(share)) == share  # written back as it reads


@pytest.mark.parametrize("text", ["", "2/0", "0%", "150%", "ba phần tư", "< 50%", "1/2/3", "90"])
def test_what_is_not_a_share(text: str) -> None:
    with pytest.raises(ValueError):
        parse_share(text)


def test_the_usual_rules_and_the_counts() -> None:
    quorum = quorum_of(None)  # two thirds of the members
    assert [quorum.needed(n) for n in (3, 9, 10, 15)] == [2, 6, 7, 10]
    majority = vote_rule_of(None, None)  # more than half of those who voted
    assert majority.carries(2, present=3, members=9) and not majority.carries(1, 2, 9)
    whole = VoteRule(parse_share("≥ 90%"), "members")
    assert not whole.carries(2, present=2, members=3) and whole.carries(9, 9, 10)
    assert whole.needed(present=3, members=3) == 3
    assert not quorum.met(0, 0)  # a council without members is never in session


@given(
    st.integers(1, 100),
    st.integers(1, 100),
    st.sampled_from(["≥", ">"]),
    st.integers(1, 60),
)
def test_needed_is_the_fewest_that_meet(num: int, den: int, op: str, of: int) -> None:
    if num > den:
        num, den = den, num
    share = parse_share(f"{op} {num}/{den}")
    needed = share.needed(of)
    assert all(not share.met(k, of) for k in range(needed))
    assert needed > of or share.met(needed, of)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("125/QĐ-SNV 15/12/2026", ("125/QĐ-SNV", (2026, 12, 15))),
        ("số 125/QĐ-SNV ngày 5.1.2027", ("125/QĐ-SNV", (2027, 1, 5))),
        ("  88/QĐ-UBND   01-02-2026 ", ("88/QĐ-UBND", (2026, 2, 1))),
        ("Quyết định số 7/QĐ-UBND ngày 1/1/2027", ("7/QĐ-UBND", (2027, 1, 1))),
    ],
)
def test_a_decision_as_typed(typed: str, expected: tuple[str, tuple[int, int, int]]) -> None:
    parsed = parse_decision(typed)
    assert parsed is not None
    assert (parsed[0], (parsed[1].year, parsed[1].month, parsed[1].day)) == expected


@pytest.mark.parametrize(
    "typed",
    ["125", "15/12/2026", "QĐ-SNV 15/12/2026", "125/QĐ 31/02/2026", "x" * 70 + "1 1/1/2026"],
)
def test_what_is_not_a_decision(typed: str) -> None:
    assert parse_decision(typed) is None


@given(st.text(max_size=300))
def test_any_text_is_a_decision_or_none(typed: str) -> None:
    parsed = parse_decision(typed)
    assert parsed is None or (0 < len(parsed[0]) <= 60)


LONG = "Đ" * 200


def _ballot(lines: int, voted: bool = False) -> Ballot:
    return Ballot(
        7,
        "T" * 500,
        True,
        tuple(BallotLine(i, i + 1, LONG, "U" * 300, "A" * 300, voted) for i in range(lines)),
    )


def test_a_ballot_of_hostile_size_stays_within_telegram() -> None:
    held = _ballot(203)
    pages = -(-203 // PER_PAGE)
    for page in range(pages):
        text, markup = screen(held, page)
        assert visible_length(text) <= MAX_TEXT
        assert markup is not None
        data = [b.callback_data for row in markup.inline_keyboard for b in row]
        assert all(isinstance(d, str) and len(d.encode()) <= 64 for d in data)
        assert len(markup.inline_keyboard) <= PER_PAGE + 1


def test_a_tally_of_hostile_size_is_packed_into_messages() -> None:
    rule = VoteRule(parse_share("≥ 90%"), "members")
    award = AwardCount(
        1,
        "GK",
        "B" * 300,
        "ca_nhan",
        rule,
        None,
        9,
        tuple(Counted(i, i, 1, "U" * 300, LONG, 9, 1, True, True) for i in range(150)),
    )
    texts = pack_blocks([render("council/award", a=award)])
    assert len(texts) > 1 and all(visible_length(t) <= MAX_TEXT for t in texts)
