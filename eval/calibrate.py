"""Fit the answerer's confidence weights and thresholds on labelled questions.

    python -m eval.calibrate DATASET.jsonl [DATASET.jsonl ...] [--data-dir DIR]

For every question the retrieval evidence the answerer uses is collected
(dense cosine of the top hit, lexical agreement, margin to the runner-up) and
labelled 1 when the question is answerable and the top hit is an expected
source, else 0. A logistic regression gives the weights; the thresholds are
then swept on the same features and the point chosen that maximises answer
accuracy subject to refusing at least ``--min-refusal`` of the unanswerable
questions. Its output is a block of settings to paste into ``kit/config.py``
or a town's TOML file. Run it on a *tuning* set, report on another.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.dataset import EvalItem, load_dataset, select_half, source_matches
from kit.answering import evidence
from kit.config import AnswerSettings, Settings
from kit.services import Services, build_services


def collect(svc: Services, items: Sequence[EvalItem]) -> list[dict[str, Any]]:
    rows = []
    for it in items:
        res = svc.ask(it.question)
        top = res.hits[0].chunk.source_id if res.hits else None
        correct = bool(
            it.answerable
            and top is not None
            and any(source_matches(e, top) for e in it.expected_sources)
        )
        d, a, m = evidence(res.hits) or (0.0, 0.0, 0.0)
        cov = res.hits[0].signals.get("coverage", -1.0) if res.hits else -1.0
        rows.append(
            {
                "id": it.id,
                "answerable": it.answerable,
                "top_correct": correct,
                "dense": d,
                "agree": a,
                "margin": m,
                "coverage": cov,
                "lang": it.lang,
            }
        )
    return rows


def fit(rows: list[dict[str, Any]], min_refusal: float) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    center = 0.84
    x = np.array([[r["dense"] - center, r["agree"], r["margin"]] for r in rows])
    y = np.array([1 if r["answerable"] else 0 for r in rows])
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, y)
    w_d, w_a, w_m = (float(v) for v in model.coef_[0])
    bias = float(model.intercept_[0])
    conf = [
        1
        / (
            1
            + math.exp(-(w_d * (r["dense"] - center) + w_a * r["agree"] + w_m * r["margin"] + bias))
        )
        for r in rows
    ]
    ans = [i for i, r in enumerate(rows) if r["answerable"]]
    una = [i for i, r in enumerate(rows) if not r["answerable"]]
    best: tuple[float, float] | None = None
    for th in np.linspace(0.05, 0.95, 91):
        refused_una = sum(conf[i] < th for i in una) / max(1, len(una))
        acc = sum(conf[i] >= th and rows[i]["top_correct"] for i in ans) / max(1, len(ans))
        if refused_una >= min_refusal and (best is None or acc > best[1]):
            best = (float(th), acc)
    threshold = best[0] if best else 0.5
    return {
        "conf_dense_center": center,
        "conf_dense_weight": round(w_d, 2),
        "conf_agree_weight": round(w_a, 2),
        "conf_margin_weight": round(w_m, 2),
        "conf_bias": round(bias, 2),
        "answer_threshold": round(threshold, 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    p.add_argument(
        "datasets", nargs="+", help="DATASET.jsonl[@DATA_DIR][%%SPLIT_FILE] (index and tuning half)"
    )
    p.add_argument("--min-refusal", type=float, default=0.8)
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
        rows.extend(collect(svc, items))
        svc.close()
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    fitted = fit(rows, args.min_refusal)
    print(json.dumps(fitted, indent=2))
    print("current defaults:", {k: getattr(AnswerSettings(), k) for k in fitted})


if __name__ == "__main__":
    main()
