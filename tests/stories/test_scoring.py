"""Goal attainment scaling T-score: worked values and properties."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stories.scoring import gas_t_score

ratings_lists = st.lists(st.integers(min_value=-2, max_value=2), min_size=1, max_size=30)


def test_worked_examples():
    assert gas_t_score([]) is None
    assert gas_t_score([0]) == 50
    assert gas_t_score([2]) == pytest.approx(70)  # one goal: 50 + 10·x
    assert gas_t_score([-1]) == pytest.approx(40)
    # Three goals at +1, 0, −1 cancel out.
    assert gas_t_score([1, 0, -1]) == pytest.approx(50)
    # Two goals at +1: 50 + 10·2 / √(0.7·2 + 0.3·4) = 50 + 20/√2.6
    assert gas_t_score([1, 1]) == pytest.approx(50 + 20 / math.sqrt(2.6))


@given(st.integers(min_value=1, max_value=30))
def test_fifty_when_every_goal_is_at_the_expected_level(n):
    assert gas_t_score([0] * n) == pytest.approx(50)


@given(ratings_lists)
def test_bounded_by_all_worst_and_all_best(ratings):
    n = len(ratings)
    low, high = gas_t_score([-2] * n), gas_t_score([2] * n)
    assert low - 1e-9 <= gas_t_score(ratings) <= high + 1e-9
    assert low >= 50 - 10 * 2 / math.sqrt(0.3)  # the limit for many goals
    assert high <= 50 + 10 * 2 / math.sqrt(0.3)


@given(ratings_lists, st.data())
def test_monotonic_in_each_rating(ratings, data):
    i = data.draw(st.integers(min_value=0, max_value=len(ratings) - 1))
    assume(ratings[i] < 2)
    better = list(ratings)
    better[i] += 1
    assert gas_t_score(better) > gas_t_score(ratings)


@given(ratings_lists)
def test_symmetric_around_fifty(ratings):
    assert gas_t_score(ratings) - 50 == pytest.approx(50 - gas_t_score([-x for x in ratings]))


@pytest.mark.parametrize("bad", [[3], [-3], [1, 5]])
def test_out_of_range_ratings_are_refused(bad):
    with pytest.raises(ValueError, match="−2 to \\+2"):
        gas_t_score(bad)
