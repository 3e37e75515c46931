"""Checks demo/eval.jsonl against the corpus: every expected source exists and
holds every expected string (after NFKC). Run from the repository root."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from madoguchi.connectors.folder import FolderConnector  # noqa: E402
from madoguchi.eval.dataset import load_dataset, source_matches  # noqa: E402
from madoguchi.eval.metrics import normalise  # noqa: E402
from madoguchi.ingest.parse import parse  # noqa: E402


def main() -> int:
    import os

    os.chdir(ROOT)
    texts = {}
    for d in FolderConnector(["demo/faq.csv", "demo/pages", "demo/pdf"]).documents():
        p = parse(d)
        # an answer may quote the department's phone, which FAQ rows keep in a column
        texts[d.source_id] = " ".join(
            [p.text, str(p.meta.get("department", "")), str(p.meta.get("phone", ""))]
        )
    problems = 0
    for it in load_dataset("demo/eval.jsonl"):
        for src in it.expected_sources:
            found = [t for sid, t in texts.items() if source_matches(src, sid)]
            if not found:
                print(f"{it.id}: no source {src}")
                problems += 1
        for s in it.expected_answer_contains:
            if not any(
                normalise(s) in normalise(t)
                for sid, t in texts.items()
                if any(source_matches(e, sid) for e in it.expected_sources)
            ):
                print(f"{it.id}: '{s}' not in any expected source")
                problems += 1
    print(f"{len(texts)} documents, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
