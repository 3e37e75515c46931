"""Leave-one-corpus-out fitting of the confidence, on synthetic evidence rows."""

import random

from madoguchi.eval import loco
from madoguchi.kit.answering import FEATURES


def _row(corpus: str, right: bool, answerable: bool, sim: float, rng: random.Random) -> dict:
    row = dict.fromkeys(FEATURES, 0.0)
    row.update(
        corpus=corpus,
        held_out=True,
        answerable=answerable,
        right=right,
        sim=sim,
        coverage=rng.random(),
        conf=0.9 if right else 0.2,
    )
    return row


def _rows(seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for corpus in ("a", "b", "c"):
        for _ in range(60):
            rows.append(_row(corpus, True, True, 0.90 + rng.random() * 0.05, rng))
        for _ in range(20):  # near neighbours and unanswerable questions sit lower
            rows.append(_row(corpus, False, False, 0.82 + rng.random() * 0.05, rng))
    return rows


def test_figures_are_answered_precision_next_to_coverage():
    rows = _rows()[:80]
    answered = [r["right"] for r in rows]
    f = loco.figures(rows, answered)
    assert f["precision"] == 1.0 and f["coverage"] == 1.0 and f["unanswerable_refused"] == 1.0
    f = loco.figures(rows, [True] * len(rows))
    assert f["precision"] == 0.75 and f["unanswerable_refused"] == 0.0


def test_each_corpus_is_reported_by_a_model_fitted_without_it():
    rows = _rows()
    results = loco.loco(rows, ["sim", "coverage"], precision=0.99)
    assert [r["left_out"] for r in results] == ["a", "b", "c"]
    for r in results:  # answering everything would give 0.75
        assert r["precision"] >= 0.95 and r["coverage"] > 0.8


def test_a_corpus_the_fit_never_saw_changes_nothing_of_the_others(monkeypatch):
    seen: list[set[str]] = []
    real = loco.fit_model

    def spy(train, features, precision):
        seen.append({r["corpus"] for r in train})
        return real(train, features, precision)

    monkeypatch.setattr(loco, "fit_model", spy)
    loco.loco(_rows(), ["sim"], precision=0.95)
    assert seen == [{"b", "c"}, {"a", "c"}, {"a", "b"}]


def test_the_threshold_keeps_every_training_corpus_at_the_precision():
    rows = _rows()
    model = loco.fit_model(rows, ["sim", "coverage"], precision=0.95)
    for c in "abc":
        mine = [r for r in rows if r["corpus"] == c]
        answered = [model.answers(r) for r in mine]
        assert loco.figures(mine, answered)["precision"] >= 0.95
