"""Odoo's naive Bayes, checked against the formula worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from leadgate.calibrate.naive_bayes import FrequencyNaiveBayes, numbers_to_bins


def test_probability_is_odoos_formula() -> None:
    columns = {
        "country": ["BE", "BE", "FR", "FR", "FR", None],
        "source": ["ads", "web", "web", "web", "ads", "web"],
    }
    won = [True, True, False, False, True, False]
    model = FrequencyNaiveBayes().fit(columns, won)
    # Frequencies (+0.1 each): country BE won 2.1 lost 0.1; FR won 1.1 lost 2.1 (None is not counted).
    assert model.frequencies["country"] == {"BE": (2.1, 0.1), "FR": (1.1, 2.1)}
    assert model.totals["country"] == pytest.approx((3.2, 2.2))
    # source: ads won 2.1 lost 0.1; web won 1.1 lost 3.1
    p_won, p_lost = 3.1 / 6.2, 3.1 / 6.2  # 3 won and 3 lost leads, +0.1 each
    s_won = p_won * (2.1 / 3.2) * (1.1 / 3.2)
    s_lost = p_lost * (0.1 / 2.2) * (3.1 / 3.2)
    expected = round(100 * s_won / (s_won + s_lost), 2) / 100
    got = model.predict_proba({"country": ["BE"], "source": ["web"]})
    assert got[0] == pytest.approx(expected)
    # An unset value and an unknown value are both left out of the product.
    unset = model.predict_proba({"country": [None], "source": ["web"]})[0]
    unknown = model.predict_proba({"country": ["DE"], "source": ["web"]})[0]
    s_won, s_lost = p_won * (1.1 / 3.2), p_lost * (3.1 / 3.2)
    assert unset == unknown == pytest.approx(round(100 * s_won / (s_won + s_lost), 2) / 100)


def test_numbers_become_deciles_only_when_they_have_many_values() -> None:
    few = numbers_to_bins([1, 2, 2, None, 3], np.arange(5))
    assert few == ["1.0", "2.0", "2.0", None, "3.0"]
    many = numbers_to_bins(list(range(100)), np.arange(100))
    assert len(set(many)) == 10 and many[0] == "bin0" and many[-1] == "bin9"
