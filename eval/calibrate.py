"""Fit the answerer's confidence weights and thresholds on labelled questions.

    python -m madoguchi.eval.calibrate DATASET.jsonl [DATASET.jsonl ...] [--data-dir DIR]

For every question the retrieval evidence the answerer uses is collected
(dense cosine of the top hit, lexical agreement, margin to the runner-up) and
labelled 1 when the question is answerable and the top hit is an expected
source, else 0. A logistic regression gives the weights; the thresholds are
then swept on the same features and the point chosen that maximises answer
accuracy subject to refusing at least ``--min-refusal`` of the unanswerable
questions (with ``--each``: of the unanswerable questions of every dataset given, so
no town's set falls below the floor while a larger one carries the pooled figure).
Its output is a block of settings to paste into ``kit/config.py``
or a town's TOML file. Run it on a *tuning* set, report on another.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from madoguchi.eval.dataset import EvalItem, load_dataset, select_half, source_matches
from madoguchi.ingest.services import TownServices, build_services
from madoguchi.kit.answering import FEATURES, evidence
from madoguchi.kit.config import AnswerSettings, Settings


def collect(svc: TownServices, items: Sequence[EvalItem], group: str = "") -> list[dict[str, Any]]:
    rows = []
    for it in items:
        res = svc.ask(it.question)
        top = res.hits[0].chunk.source_id if res.hits else None
        correct = bool(
            it.answerable
            and top is not None
            and any(source_matches(e, top) for e in it.expected_sources)
        )
        ev = evidence(res.hits, res.answer.lang) or dict.fromkeys(FEATURES, 0.0)
        rows.append(
            {
                "id": it.id,
                "set": group,
                "answerable": it.answerable,
                "top_correct": correct,
                "lang": it.lang,
                **ev,
            }
        )
    return rows


def design(rows: Sequence[dict[str, Any]], center: float) -> np.ndarray:
    return np.array([[r["sim"] - center] + [r[f] for f in FEATURES if f != "sim"] for r in rows])


def fit(
    rows: list[dict[str, Any]], min_refusal: float, center: float = 0.85, each: bool = False
) -> dict[str, Any]:
    """Weights from a logistic regression (label: answerable), then the threshold with the
    best answer accuracy among those refusing at least ``min_refusal`` of unanswerables
    (``each``: of every set's unanswerables, rows grouped by their ``set`` field)."""
    from sklearn.linear_model import LogisticRegression

    x = design(rows, center)
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    model = LogisticRegression(C=100.0, max_iter=5000, class_weight="balanced").fit(x, y)
    conf = model.predict_proba(x)[:, 1]
    weights = {"bias": round(float(model.intercept_[0]), 3)}
    weights.update({f: round(float(w), 3) for f, w in zip(FEATURES, model.coef_[0], strict=True)})
    ans = [i for i, r in enumerate(rows) if r["answerable"]]
    una = [i for i, r in enumerate(rows) if not r["answerable"]]
    # the unanswerable questions of each set (one pool unless the floor holds per set)
    una_sets: dict[str, list[int]] = {}
    for i in una:
        una_sets.setdefault(str(rows[i].get("set", "")) if each else "", []).append(i)
    curve = []
    for th in np.linspace(0.05, 0.95, 91):
        # the worst set's share refused
        refused_una = min(
            (float(np.mean([conf[i] < th for i in idx])) for idx in una_sets.values()),
            default=1.0,
        )
        acc = float(np.mean([conf[i] >= th and rows[i]["top_correct"] for i in ans]))
        false_ref = float(np.mean([conf[i] < th for i in ans]))
        curve.append((round(float(th), 2), acc, refused_una, false_ref))
    ok = [c for c in curve if c[2] >= min_refusal] or curve
    best = max(ok, key=lambda c: (c[1], -c[0]))
    return {
        "conf_sim_center": center,
        "conf_weights": weights,
        "answer_threshold": best[0],
        "at_threshold": {
            "top1_accuracy": best[1],
            "unanswerable_refused": best[2],
            "false_refusal": best[3],
        },
        "curve": curve,
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m madoguchi.eval.calibrate", description=__doc__)
    p.add_argument(
        "datasets", nargs="+", help="DATASET.jsonl[@DATA_DIR][%%SPLIT_FILE] (index and tuning half)"
    )
    p.add_argument("--min-refusal", type=float, default=0.8)
    p.add_argument(
        "--each", action="store_true", help="the refusal floor holds for every dataset given"
    )
    p.add_argument("--dump", type=Path, help="write the per-question features as JSONL")
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for spec in args.datasets:
        spec, _, split = spec.partition("%")
        ds, _, data_dir = spec.partition("@")
        settings = Settings() if not data_dir else Settings(data_dir=Path(data_dir))
        svc = build_services(settings)
        svc.warm_up()
        items = load_dataset(ds)
        if split:
            items = select_half(items, split, "tune")
        rows.extend(collect(svc, items, group=Path(ds).name))
        svc.close()
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    fitted = fit(rows, args.min_refusal, each=args.each)
    curve = fitted.pop("curve")
    print(json.dumps(fitted, indent=2))
    print("threshold  top1-acc  unanswerable-refused  false-refusal")
    for th, acc, ref, fr in curve[::5]:
        print(f"{th:9.2f}  {acc:8.3f}  {ref:20.3f}  {fr:13.3f}")
    d = AnswerSettings()
    print(
        "current defaults:",
        {"conf_weights": d.conf_weights, "answer_threshold": d.answer_threshold},
    )


if __name__ == "__main__":
    main()
