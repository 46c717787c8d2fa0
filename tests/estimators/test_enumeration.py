"""Exact Shapley values from tables: the full table and a partial one (zero where not given)."""

from __future__ import annotations

import numpy as np
import pytest

from blackbox_explain.estimators.enumeration import (
    all_masks,
    shapley_from_table,
    shapley_of_partial_table,
)


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_a_partial_table_is_the_full_table_with_zeros_where_not_given(n):
    rng = np.random.default_rng(n)
    masks, values = all_masks(n), rng.normal(size=(2**n, 2))
    given = rng.random(2**n) < 0.4
    zero_filled = np.where(given[:, None], values, 0.0)
    np.testing.assert_allclose(
        shapley_of_partial_table(masks[given], values[given]),
        shapley_from_table(zero_filled, n),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        shapley_of_partial_table(masks, values), shapley_from_table(values, n), atol=1e-12
    )


def test_a_long_texts_weights_do_not_overflow():
    # the factorials of 5,000 segments overflow a float; the full text's weight is 1 / n
    n = 5000
    masks = np.vstack([np.zeros(n, bool), np.ones(n, bool)])
    values = shapley_of_partial_table(masks, np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(values, np.full((n, 1), 1.0 / n))
