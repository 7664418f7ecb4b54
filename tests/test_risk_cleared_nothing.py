"""The cleared-nothing model: fit, explain, the one-outcome case, leaving years out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_cmr.analysis.cleared_nothing import INPUTS, fit_model, leave_years_out


def _history(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "log_evidence_per_ha": rng.normal(1, 0.5, n),
            "years_since_evidence": rng.uniform(0, 12, n),
            "spent_share": rng.uniform(0, 1, n),
            "unsupported_share": rng.uniform(0.3, 1, n),
            "is_sha": 0.0,
        }
    )
    logit = -2 + 4 * (x["spent_share"] - 0.5)
    nothing = rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))
    years = np.repeat([2020, 2021, 2022, 2023, 2024], n // 5)
    return x, nothing, years


def test_fit_finds_the_input_that_matters_and_explains_each_score():
    x, y, years = _history(400)
    model = fit_model(x, y, years=years)
    assert model.fitted and model.coef["is_sha"] == 0.0
    assert "is_sha" in model.note
    assert max(model.coef, key=lambda k: abs(model.coef[k])) == "spent_share"
    assert model.coef["spent_share"] > 0
    p = model.predict(x)
    assert ((p > 0) & (p < 1)).all()
    sentences = model.explain(x.iloc[:2])
    assert all(s.endswith(".") and "chance of clearing nothing" in s for s in sentences)
    assert set(model.to_dict()["inputs"][0]) == {"input", "meaning", "mean", "scale", "coefficient"}
    assert [i["input"] for i in model.to_dict()["inputs"]] == list(INPUTS)


def test_one_outcome_only_gives_the_half_count_share():
    x, _, years = _history(20)
    model = fit_model(x, np.zeros(20, bool), years=years)
    assert not model.fitted
    assert model.predict(x) == pytest.approx(np.full(20, 0.5 / 21))
    assert "no cleared-nothing records" in model.explain(x.iloc[:1])[0]


def test_leave_years_out_scores_each_year_with_a_model_that_did_not_see_it():
    x, y, years = _history(300, seed=3)
    table, pooled = leave_years_out(x, y, years)
    assert table["year"].tolist() == [2020, 2021, 2022, 2023, 2024]
    assert table["records"].sum() == pooled["records"] == 300
    assert table["fitted"].all()
    # an input that matters beats the model without inputs
    assert pooled["brier"] < pooled["brier_base"]
    assert pooled["auc"] > 0.6
