"""Fit the answerer's confidence leave-one-corpus-out, and report each corpus held out.

    python -m madoguchi.eval.loco collect CORPUS=DATASET.jsonl@DATA_DIR [...] --out rows.jsonl
    python -m madoguchi.eval.loco fit rows.jsonl [--precision 0.95] [--features a,b,...]

``collect`` asks every question once (as ``eval run`` does: alone, language detected)
and writes one row per question: the evidence the confidence is computed from
(``kit.answering.evidence``), the confidence under the current settings, and whether
the answer madoguchi would give *if it answered* is right (``eval.metrics.answer_correct``
on the answer forced past the threshold). Items of a set whose file name holds
``blind`` are marked held out.

``fit`` does, for every corpus C in turn: a logistic regression of "the answer would be
right" on the other corpora's rows (all their sets), the threshold chosen on those
rows as the lowest that keeps their answered precision at ``--precision`` (the worst
corpus's, so no town carries another), and then C's held-out rows are scored with that
model and threshold: answered precision, coverage, falsely refused and unanswerable
refused. The same report is printed for the current settings, and the model fitted on
every corpus (the shipped defaults) is printed as settings.

Rows carry the forced answer's correctness under the current FAQ-verbatim rule; a
default changed from this fit is checked afterwards with ``madoguchi eval run``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.eval.dataset import load_dataset
from madoguchi.eval.metrics import answer_correct
from madoguchi.kit.answering import (
    FEATURES,
    LATIN_SCRIPT,
    ExtractiveAnswerer,
    confidence,
    evidence,
)
from madoguchi.kit.config import Settings
from madoguchi.kit.lang import base_lang

CENTER = 0.85


def collect(specs: Sequence[str]) -> list[dict[str, Any]]:
    """One row per question of every ``CORPUS=DATASET@DATA_DIR`` spec."""
    from madoguchi.ingest.services import build_services

    rows: list[dict[str, Any]] = []
    for spec in specs:
        corpus, _, rest = spec.partition("=")
        ds, _, data_dir = rest.partition("@")
        settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
        svc = build_services(settings)
        svc.warm_up()
        forced = ExtractiveAnswerer(settings.answer.model_copy(update={"answer_threshold": 0.0}))
        held_out = "blind" in Path(ds).name
        for it in load_dataset(ds):
            if it.history:
                continue  # dialogues are measured by eval run, not fitted here
            res = svc.ask(it.question)
            lang = res.answer.lang
            ans = forced.answer(it.question, res.hits, lang=lang)
            ev = evidence(res.hits, lang, it.question) or dict.fromkeys(FEATURES, 0.0)
            right = answer_correct(
                it, refused=False, cited=[c.source_id for c in ans.citations], text=ans.text
            )
            rows.append(
                {
                    "corpus": corpus,
                    "set": Path(ds).name,
                    "id": it.id,
                    "lang": it.lang,
                    "held_out": held_out,
                    "answerable": it.answerable,
                    "right": bool(it.answerable and right),
                    "conf": confidence(res.hits, settings.answer, lang, it.question),
                    **ev,
                }
            )
        svc.close()
    return rows


@dataclass
class Model:
    weights: dict[str, float]
    threshold: float
    # the threshold the same rule gives on the rows of questions in other languages than
    # Japanese: reported, to show how differently they calibrate (the kit has one threshold)
    foreign_threshold: float = 0.5

    def answers(self, row: dict[str, Any]) -> bool:
        th = self.threshold if row["ja"] else self.foreign_threshold
        return self.score(row) >= th

    def score(self, row: dict[str, Any]) -> float:
        w = self.weights
        z = w.get("bias", 0.0) + w.get("sim", 0.0) * (row["sim"] - CENTER)
        z += sum(w.get(k, 0.0) * row[k] for k in FEATURES if k != "sim")
        conf = 1.0 / (1.0 + math.exp(-z))
        return min(conf, 0.1) if row["sim"] < 0.80 else conf


def figures(rows: Sequence[dict[str, Any]], answered: Sequence[bool]) -> dict[str, float | None]:
    """Answered precision, coverage, falsely refused and unanswerable refused."""
    given = [r for r, a in zip(rows, answered, strict=True) if a]
    ans = [a for r, a in zip(rows, answered, strict=True) if r["answerable"]]
    una = [a for r, a in zip(rows, answered, strict=True) if not r["answerable"]]
    return {
        "n": len(rows),
        "precision": sum(r["right"] for r in given) / len(given) if given else None,
        "coverage": sum(ans) / len(ans) if ans else None,
        "accuracy": sum(
            (r["right"] if a else not r["answerable"]) for r, a in zip(rows, answered, strict=True)
        )
        / len(rows)
        if rows
        else None,
        "unanswerable_refused": sum(1 for a in una if not a) / len(una) if una else None,
    }


def fit_model(rows: Sequence[dict[str, Any]], features: Sequence[str], precision: float) -> Model:
    """Logistic regression of ``right`` on ``features``, then the lowest threshold at which
    every corpus's answered precision in ``rows`` reaches ``precision`` (else the one
    with the best worst-corpus precision)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def col(r: dict[str, Any], f: str) -> float:
        return float(r[f]) - CENTER if f == "sim" else float(r[f])

    x = np.array([[col(r, f) for f in features] for r in rows])
    y = np.array([1 if r["right"] else 0 for r in rows])
    lr = LogisticRegression(C=10.0, max_iter=5000).fit(x, y)
    weights = {"bias": float(lr.intercept_[0])}
    weights.update({f: float(w) for f, w in zip(features, lr.coef_[0], strict=True)})
    model = Model(weights, 0.5)
    model.threshold = _threshold([r for r in rows if r["ja"]], model, precision)
    model.foreign_threshold = _threshold([r for r in rows if not r["ja"]], model, precision)
    return model


def _threshold(rows: Sequence[dict[str, Any]], model: Model, precision: float) -> float:
    """The lowest threshold at which every corpus's answered precision in ``rows`` reaches
    ``precision``, else the one with the best worst-corpus precision."""
    scores = [model.score(r) for r in rows]
    corpora = sorted({r["corpus"] for r in rows})
    best: tuple[float, float] | None = None
    for th in [i / 100 for i in range(5, 96)]:
        worst = 1.0
        for c in corpora:
            given = [
                r["right"]
                for r, s in zip(rows, scores, strict=True)
                if r["corpus"] == c and s >= th
            ]
            worst = min(worst, sum(given) / len(given) if given else 1.0)
        if worst >= precision:
            return th
        if best is None or worst > best[1]:
            best = (th, worst)
    return best[0] if best else 0.5


def loco(
    rows: Sequence[dict[str, Any]], features: Sequence[str], precision: float
) -> list[dict[str, Any]]:
    out = []
    for c in sorted({r["corpus"] for r in rows}):
        train = [r for r in rows if r["corpus"] != c]
        test = [r for r in rows if r["corpus"] == c and r["held_out"]]
        if not test:
            continue
        model = fit_model(train, features, precision)
        answered = [model.answers(r) for r in test]
        out.append(
            {
                "left_out": c,
                "threshold": model.threshold,
                "foreign": model.foreign_threshold,
                **figures(test, answered),
            }
        )
    return out


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def table(results: Sequence[dict[str, Any]], title: str) -> str:
    cols = [
        "n",
        "threshold",
        "foreign",
        "precision",
        "coverage",
        "accuracy",
        "unanswerable_refused",
    ]
    lines = [f"### {title}", "", "| corpus left out | " + " | ".join(cols) + " |"]
    lines.append("|---|" + "---:|" * len(cols))
    for r in results:
        lines.append(f"| {r['left_out']} | " + " | ".join(_fmt(r.get(k)) for k in cols) + " |")
    return "\n".join(lines)


def current(rows: Sequence[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    out = []
    for c in sorted({r["corpus"] for r in rows}):
        test = [r for r in rows if r["corpus"] == c and r["held_out"]]
        if test:
            answered = [r["conf"] >= threshold for r in test]
            out.append({"left_out": c, "threshold": threshold, **figures(test, answered)})
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m madoguchi.eval.loco", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("specs", nargs="+", help="CORPUS=DATASET.jsonl@DATA_DIR")
    c.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit")
    f.add_argument("rows", type=Path)
    f.add_argument("--precision", type=float, default=0.95)
    f.add_argument("--features", default=",".join(FEATURES))
    args = p.parse_args(argv)
    if args.cmd == "collect":
        rows = collect(args.specs)
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"{len(rows)} rows -> {args.out}")
        return
    rows = [json.loads(line) for line in args.rows.read_text().splitlines() if line.strip()]
    for r in rows:  # rows collected before a feature existed: what it would have been
        r.setdefault("latin", 1.0 if base_lang(r["lang"]) in LATIN_SCRIPT else 0.0)
    features = [x for x in args.features.split(",") if x]
    print(table(current(rows, Settings().answer.answer_threshold), "current defaults"))
    print()
    print(table(loco(rows, features, args.precision), f"leave-one-corpus-out, {args.precision}"))
    full = fit_model(rows, features, args.precision)
    print()
    print(
        json.dumps(
            {
                "conf_weights": {k: round(v, 3) for k, v in full.weights.items()},
                "answer_threshold": full.threshold,
                "foreign_questions_threshold (reported only)": full.foreign_threshold,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
