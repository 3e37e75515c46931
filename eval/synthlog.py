"""A synthetic conversation log: a month of residents' questions over a demo index.

The 利用状況 tab, ``madoguchi stats`` and their tests need a log that looks like a
town's month without being anyone's questions. ``generate`` writes ``n``
conversations through ``ConversationLog.record`` (so masking applies as in service):

- questions are the items of evaluation sets (``demo/eval.jsonl``,
  ``demo/eval_multilingual.jsonl``: answerable and unanswerable, several languages)
  and paraphrases of the Japanese ones (endings changed, 「について教えて」,
  「すみません、」 …), drawn with Zipf-like weights so a few topics dominate, as they do;
- each question is answered by the services over the index (``Services.ask``, once per
  distinct wording: the log's mode, citations, refusals and 聞き返し are real);
- one to three turns per conversation, on weekdays more than at weekends, in office
  hours and evenings; latencies from a log-normal with a slow tail; 👍 / 👎 on about a
  quarter of the answers, more 👎 where the answer cites none of the item's expected
  sources, a few comments (some with a phone number, which the log masks).

Everything is drawn from ``random.Random(seed)``: the same index, seed and sets give
the same log, ids included.

    python -m madoguchi.eval.synthlog --month 2026-11 --n 1200 --seed 7 \\
        [--sets demo/eval.jsonl,demo/eval_multilingual.jsonl] [--log FILE]

writes into the data directory's log (``MADOGUCHI_DATA_DIR``) unless ``--log`` names
another file; the index must have been built (``madoguchi ingest demo/faq.csv …``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import InputError
from madoguchi.kit.types import Answer
from madoguchi.kit.usage import Period

DEFAULT_SETS = ("demo/eval.jsonl", "demo/eval_multilingual.jsonl")
COMMENTS_BAD = (
    "知りたいことと違いました",
    "情報が古いと思います",
    "電話 090-1234-5678 まで連絡ください",
    "分かりにくい",
)
COMMENTS_GOOD = ("助かりました", "ありがとう")


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    answerable: bool
    expected: tuple[str, ...]


_MARKS = re.compile(r"[？?。！!\s]+$")


def paraphrases(text: str) -> list[str]:
    """The question and a few ways a resident might also write it (Japanese only):
    the sentence kept whole, so every wording stays grammatical."""
    t = text.strip()
    bare = _MARKS.sub("", t)
    if not bare or not re.search(r"[ぁ-んァ-ン]", bare):
        return [text]
    out = [
        t,
        f"{bare}？",
        f"すみません、{bare}？",
        f"{bare}。教えてください",
        f"質問です。{bare}？",
    ]
    return list(dict.fromkeys(out))


def read_sets(paths: Sequence[Path]) -> list[Question]:
    """Items of the evaluation sets as questions (a provenance line is skipped)."""
    out: list[Question] = []
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such question set")
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{path} line {no}: {exc}") from exc
            if "question" not in d or d.get("history"):
                continue  # a provenance record, or a follow-up needing its context
            out.append(
                Question(
                    str(d["question"]),
                    str(d.get("lang") or "ja"),
                    bool(d.get("answerable", True)),
                    tuple(d.get("expected_sources") or ()),
                )
            )
    if not out:
        raise InputError("the question sets hold no questions")
    return out


Ask = Callable[[str, str], tuple[Answer, float]]  # (question, lang) -> (answer, ms)


def generate(
    log: ConversationLog,
    ask: Ask,
    questions: Sequence[Question],
    month: Period,
    n: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``n`` conversations of ``month`` into ``log``; a summary of what was written."""
    if n < 1:
        raise InputError("n must be at least 1")
    rng = random.Random(seed)
    # every wording, with Zipf-like weights over a seeded order of the base questions
    base = list(questions)
    rng.shuffle(base)
    pool: list[tuple[str, Question]] = []
    weights: list[float] = []
    for rank, q in enumerate(base, 1):
        forms = paraphrases(q.text) if q.lang == "ja" else [q.text]
        for form in forms:
            pool.append((form, q))
            weights.append(1.0 / (rank**0.75) / len(forms))
    answers: dict[tuple[str, str], tuple[Answer, float]] = {}
    days = month.split("day")
    day_weights = [1.0 if d.start.weekday() < 5 else 0.45 for d in days]
    hours = list(range(7, 23))
    hour_weights = [0.3, 1.2, 2.2, 2.6, 2.3, 1.8, 2.0, 2.0, 1.7, 1.4, 1.3, 1.6, 1.9, 1.5, 0.8, 0.4]
    modes: Counter[str] = Counter()
    turns = 0
    for _ in range(n):
        day = rng.choices(days, day_weights)[0]
        hour = rng.choices(hours, hour_weights)[0]
        t = day.start_ts + hour * 3600 + rng.random() * 3600
        cid = f"{rng.getrandbits(128):032x}"
        k = rng.choices((1, 2, 3), (0.7, 0.22, 0.08))[0]
        for _ in range(k):
            text, item = rng.choices(pool, weights)[0]
            key = (text, item.lang)
            if key not in answers:
                answers[key] = ask(text, item.lang)
            a, _ms = answers[key]
            latency = math.exp(rng.gauss(math.log(170 if not a.refused else 140), 0.35))
            if rng.random() < 0.02:
                latency *= 6  # the slow tail: a cold cache, a busy machine
            turn = log.record(
                question=text,
                lang=a.lang,
                answer=a.text,
                citations=[c.to_json() for c in a.citations],
                refused=a.refused,
                mode=a.mode,
                confidence=a.confidence,
                latency_ms=round(latency, 1),
                conversation_id=cid,
                turn_id=f"{rng.getrandbits(128):032x}",
                ts=min(t, day.end_ts - 1),
                follow_up=a.follow_up,
            )
            turns += 1
            modes[a.mode] += 1
            _feedback(log, rng, turn.id, a, item)
            t += rng.uniform(20, 120)
    return {
        "conversations": n,
        "turns": turns,
        "wordings": len(answers),
        "modes": dict(modes),
        "month": month.label,
        "seed": seed,
    }


def _feedback(
    log: ConversationLog, rng: random.Random, turn_id: str, a: Answer, item: Question
) -> None:
    if rng.random() >= (0.12 if a.refused else 0.27):
        return
    cited = {c.source_id for c in a.citations}
    right = not a.refused and any(
        c == e or c.endswith("/" + e) or e.endswith("/" + c) for c in cited for e in item.expected
    )
    good = (not a.refused) and rng.random() < (0.85 if right else 0.3)
    comment = None
    if rng.random() < 0.2:
        comment = rng.choice(COMMENTS_GOOD if good else COMMENTS_BAD)
    log.feedback(turn_id, good, comment)


def services_ask(services: Any) -> Ask:
    """``Ask`` over ``Services.ask`` (the answer and its latency)."""

    def ask(text: str, lang: str) -> tuple[Answer, float]:
        res = services.ask(text, lang=lang)
        return res.answer, res.latency_ms

    return ask


def main(argv: Sequence[str] | None = None) -> int:
    from madoguchi.ingest.services import build_services
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.convlog import FILENAME
    from madoguchi.kit.errors import KitError

    p = argparse.ArgumentParser(prog="python -m madoguchi.eval.synthlog", description=__doc__)
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--n", type=int, default=1000, help="conversations (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated JSONL files")
    p.add_argument("--log", type=Path, help="the log file (default: the data directory's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE")
    args = p.parse_args(argv)
    try:
        settings = load_settings(args.overrides)
        month = Period.month(args.month)
        questions = read_sets([Path(s) for s in args.sets.split(",") if s])
        svc = build_services(settings)
        if svc.index.chunk_count() == 0:
            raise InputError(f"the index in {settings.data_dir} is empty: ingest the demo first")
        path = args.log or Path(settings.data_dir) / FILENAME
        # a month older than the retention period would be deleted on the next open
        log = ConversationLog(path, retention_days=max(settings.server.retention_days, 36500))
        try:
            summary = generate(log, services_ask(svc), questions, month, args.n, args.seed)
        finally:
            log.close()
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({**summary, "log": str(path)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
