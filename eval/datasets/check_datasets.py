"""Checks our paraphrased evaluation sets against the real data in ../shared/data.

    python eval/datasets/check_datasets.py [--data ../shared/data] [--quiet]

Checks: every line parses; required fields and types (docs/ARCHITECTURE.md); ids are
unique; answerable items have sources, unanswerable ones have none; every
expected/relevance source id exists (FAQ row ID present / 5374 record number in
range: 1..1760 Kameoka, 1..776 Kyotango; Otoineppu: a Markdown file under
otoineppu_pages, named by its POSIX path relative to ../shared); every expected
source has relevance 2. For unanswerable items it re-runs the keyword searches
recorded in make_paraphrased.py and fails if any row (Otoineppu: any page's
full text) matches. For the Kyotango set it also re-derives every item's
expected (grade 2) and related (grade 1) records from the name regexes in
make_paraphrased.py, and for the Otoineppu set it compares every item with the
page lists there; either fails if the file disagrees (a stale file, or a list
edited without re-running the script). Then it prints each answerable question
next to the FAQ question (5374 item name, page's first heading) of its first
expected source, with the longest run of characters the two share, so a
reviewer can see that the wording differs and the meaning matches; for pages it
also prints the longest run shared with the text of any expected page and flags
runs longer than six characters against heading or text. Exit status 1 on any
error.
"""

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGS = {"ja", "en", "zh", "ko", "vi", "pt"}
A = "data/amagasaki_faq/faq.csv#"
K = "data/kameoka_5374/target.csv#"
T = "data/kyotango_5374/target.csv#"
OP = "data/otoineppu_pages/"


def longest_common_run(a, b):
    best = ""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                best = a[i:j]
            else:
                break
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "data")
    ap.add_argument("--quiet", action="store_true", help="errors and counts only")
    args = ap.parse_args()

    faq_csv = (args.data / "amagasaki_faq" / "faq.csv").read_text(encoding="utf-8-sig")
    faq = {r["ID"]: r for r in csv.DictReader(io.StringIO(faq_csv, newline=""))}
    km_text = (args.data / "kameoka_5374" / "target.csv").read_bytes().decode("cp932")
    km = list(csv.reader(io.StringIO(km_text, newline="")))[1:]
    with (args.data / "kyotango_5374" / "target.csv").open(encoding="utf-8", newline="") as f:
        kt = list(csv.reader(f))[1:]
    # Otoineppu pages keyed by source id (path relative to ../shared, POSIX, no ./).
    op_root = args.data / "otoineppu_pages"
    op = {
        OP + p.relative_to(op_root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(op_root.rglob("*.md"))
    }

    def heading(text):
        return next((ln.lstrip("#").strip() for ln in text.splitlines() if ln.startswith("#")), "")

    errors = []

    def title(src):
        if src.startswith(A):
            row = faq.get(src[len(A) :])
            return row["質問"] if row else None
        if src.startswith(K):
            n = src[len(K) :]
            if n.isdigit() and 1 <= int(n) <= len(km):
                rec = km[int(n) - 1]
                return f"[{rec[0]}] {rec[1]}"
            return None
        if src.startswith(T):
            n = src[len(T) :]
            if n.isdigit() and 1 <= int(n) <= len(kt):
                rec = kt[int(n) - 1]
                return f"[{rec[0]}] {rec[1]}"
            return None
        if src.startswith(OP):
            return heading(op[src]) if src in op else None
        return None

    ids = set()
    loaded = {}
    for path in sorted(HERE.glob("*_paraphrased.jsonl")):
        counts = {}
        for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{ln}"
            try:
                it = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: not JSON ({e})")
                continue
            for key, typ in [
                ("id", str),
                ("question", str),
                ("lang", str),
                ("answerable", bool),
                ("expected_sources", list),
                ("expected_answer_contains", list),
            ]:
                if not isinstance(it.get(key), typ):
                    errors.append(f"{where}: field {key!r} missing or not {typ.__name__}")
            if it.get("id") in ids:
                errors.append(f"{where}: duplicate id {it.get('id')}")
            ids.add(it.get("id"))
            loaded[it.get("id")] = it
            if it.get("lang") not in LANGS:
                errors.append(f"{where}: lang {it.get('lang')!r}")
            srcs = it.get("expected_sources", [])
            rel = it.get("relevance", {})
            if it.get("answerable") != bool(srcs):
                errors.append(f"{where}: answerable={it.get('answerable')} but {len(srcs)} sources")
            for s in list(srcs) + list(rel):
                if title(s) is None:
                    errors.append(f"{where}: unknown source id {s}")
            for s in srcs:
                if rel and rel.get(s) != 2:
                    errors.append(f"{where}: expected source {s} lacks relevance 2")
            if len(set(srcs)) != len(srcs):
                errors.append(f"{where}: repeated expected source")
            key = (it.get("lang"), it.get("answerable"))
            counts[key] = counts.get(key, 0) + 1
            if not args.quiet and srcs:
                q = it["question"]
                t = title(srcs[0]) or "?"
                run = (
                    max((longest_common_run(q, title(s) or "") for s in srcs), key=len)
                    if it["lang"] == "ja"
                    else ""
                )
                flag = "  <-- long shared run" if len(run) > 6 else ""
                pages = [op[s] for s in srcs if s in op]
                if pages and it["lang"] == "ja":
                    body = max((longest_common_run(q, p) for p in pages), key=len)
                    run = f"{run!r}, page text {body!r}"
                    if len(body) > 6:
                        flag += "  <-- long shared run with page text"
                else:
                    run = repr(run)
                print(
                    f"{it['id']}  Q: {q}\n{'':{len(it['id'])}}  S: {t[:90]}  (+{len(srcs) - 1} more)"
                    f"  shared: {run}{flag}"
                )
        summary = ", ".join(
            f"{lang} {'answerable' if ans else 'unanswerable'} {n}"
            for (lang, ans), n in sorted(counts.items(), key=str)
        )
        print(f"# {path.name}: {sum(counts.values())} items ({summary})")

    # Unanswerable items: the keyword searches recorded next to them must find nothing.
    sys.path.insert(0, str(HERE))
    try:
        import make_paraphrased as mp
    except ImportError:
        mp = None
    if mp is not None:
        faq_text = {i: r["質問"] + "\n" + r["回答"] for i, r in faq.items()}
        pats = [(q, p) for q, p, _ in mp.AMAGASAKI_UNANSWERABLE]
        pats += [(q, p) for q, _, p in mp.AMAGASAKI_FOREIGN_UNANSWERABLE]
        for q, p in pats:
            hits = [i for i, t in faq_text.items() if re.search(p, t)]
            if hits:
                errors.append(f"unanswerable {q!r}: /{p}/ matches FAQ rows {hits[:10]}")
        for q, p in mp.KAMEOKA_UNANSWERABLE:
            hits = [n for n, r in enumerate(km, 1) if re.search(p, "\t".join(r))]
            if hits:
                errors.append(f"unanswerable {q!r}: /{p}/ matches 5374 records {hits[:10]}")
        for q, p, _ in mp.KYOTANGO_UNANSWERABLE:
            hits = [n for n, r in enumerate(kt, 1) if re.search(p, "\t".join(r))]
            if hits:
                errors.append(f"unanswerable {q!r}: /{p}/ matches Kyotango records {hits[:10]}")
        # Kyotango: the file must hold exactly the records the name regexes pick.
        for n, (q, pat, rel_pat, _) in enumerate(mp.KYOTANGO, 1):
            it = loaded.get(f"kt-p-{n:03d}")
            if it is None or it.get("question") != q:
                errors.append(f"kt-p-{n:03d}: missing or not {q!r}; re-run make_paraphrased.py")
                continue
            want = {f"{T}{i}": 2 for i, r in enumerate(kt, 1) if re.search(pat, r[1])}
            for i, r in enumerate(kt, 1):
                if rel_pat and re.search(rel_pat, r[1]):
                    want.setdefault(f"{T}{i}", 1)
            got = it.get("relevance", {})
            if got != want or set(it["expected_sources"]) != {s for s, g in want.items() if g == 2}:
                errors.append(
                    f"kt-p-{n:03d}: sources differ from /{pat}/ + /{rel_pat}/ over names: "
                    f"missing {sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}"
                )
        for n, (q, _, _) in enumerate(mp.KYOTANGO_UNANSWERABLE, 1):
            it = loaded.get(f"kt-u-{n:03d}")
            if it is None or it.get("question") != q or it.get("answerable"):
                errors.append(f"kt-u-{n:03d}: missing or not {q!r}; re-run make_paraphrased.py")
        # Otoineppu: no page may match an unanswerable item's regex, and the file
        # must hold exactly the pages listed in make_paraphrased.py.
        for q, p, _ in mp.OTOINEPPU_UNANSWERABLE:
            hits = [s[len(OP) :] for s, text in op.items() if re.search(p, text)]
            if hits:
                errors.append(f"unanswerable {q!r}: /{p}/ matches pages {hits[:10]}")
        for n, (q, pages, related, _) in enumerate(mp.OTOINEPPU, 1):
            it = loaded.get(f"op-p-{n:03d}")
            if it is None or it.get("question") != q:
                errors.append(f"op-p-{n:03d}: missing or not {q!r}; re-run make_paraphrased.py")
                continue
            want = {OP + pg: 1 for pg in related}
            want.update({OP + pg: 2 for pg in pages})
            if it.get("relevance") != want or it["expected_sources"] != [OP + pg for pg in pages]:
                errors.append(f"op-p-{n:03d}: sources differ from make_paraphrased.py; re-run it")
        for n, (q, _, _) in enumerate(mp.OTOINEPPU_UNANSWERABLE, 1):
            it = loaded.get(f"op-u-{n:03d}")
            if it is None or it.get("question") != q or it.get("answerable"):
                errors.append(f"op-u-{n:03d}: missing or not {q!r}; re-run make_paraphrased.py")
        n_op = sum(1 for i in loaded if str(i).startswith("op-"))
        if n_op != len(mp.OTOINEPPU) + len(mp.OTOINEPPU_UNANSWERABLE):
            errors.append(
                f"otoineppu file has {n_op} items, make_paraphrased.py lists a different number"
            )

    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print(f"# {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
