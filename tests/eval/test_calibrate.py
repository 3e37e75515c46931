"""The confidence fit and its threshold choice (eval.calibrate.fit), on hand-made rows."""

from __future__ import annotations

from madoguchi.eval.calibrate import fit
from madoguchi.kit.answering import FEATURES


def row(set_, sim, answerable, correct=None):
    r = dict.fromkeys(FEATURES, 0.0)
    r.update(sim=sim, ja=1.0, coverage=0.5)
    return {
        "id": f"{set_}-{sim}",
        "set": set_,
        "answerable": answerable,
        "top_correct": answerable if correct is None else correct,
        **r,
    }


def rows():
    # town a: unanswerable questions score low; town b's score as high as answerable ones
    out = [row("a", 0.80 + 0.002 * i, False) for i in range(10)]
    out += [row("b", 0.86 + 0.002 * i, False) for i in range(4)]
    out += [row("a", 0.86 + 0.004 * i, True) for i in range(15)]
    out += [row("b", 0.865 + 0.004 * i, True) for i in range(15)]
    return out


def test_each_set_must_reach_the_refusal_floor():
    pooled = fit(rows(), 0.8)
    each = fit(rows(), 0.8, each=True)
    # pooled, town a's easy refusals carry town b: a lower threshold passes
    assert each["answer_threshold"] > pooled["answer_threshold"]
    assert each["at_threshold"]["unanswerable_refused"] >= 0.8
    assert each["conf_weights"] == pooled["conf_weights"]  # only the threshold differs


def test_the_fit_weighs_similarity_up():
    got = fit(rows(), 0.8)
    assert got["conf_weights"]["sim"] > 0
    assert set(got["conf_weights"]) == {"bias", *FEATURES}
