"""Personal data in residents' text: what the conversation log keeps must be masked.

The corpus ``pii_corpus.jsonl`` (written for these tests; every person, number and
address in it is made up) holds questions and comments with personal data, each with
the spans that must be masked and their kind, and ordinary municipal questions full of
numbers (fees, dates, times, years, counts, ages, postcodes) that must stay as typed.

How the figures are measured (from the masker's output alone, so any masker can be
measured the same way, the previous one included):

- the output is aligned with the input (``difflib``, every placeholder ``[…]`` counted
  as one new character); an input character is *changed* when the alignment does not
  keep it;
- **recall** = PII spans whose every character was changed / all PII spans;
- **over-masking** = changed characters outside the PII spans / all characters outside
  them (control characters, which must go, count on neither side), and, separately,
  the share of ordinary questions that came out different at all.

``python -m tests.security.test_pii`` prints the figures (with ``PYTHONPATH`` pointing
at another checkout it measures that checkout's masker).
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from madoguchi.kit.convlog import ConversationLog, mask_pii

CORPUS = Path(__file__).with_name("pii_corpus.jsonl")
PLACEHOLDER = re.compile(r"\[[^\[\]\sA-Za-z0-9]{1,10}\]")


def load_corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_control(ch: str) -> bool:
    """What the log must not keep: C0/C1 controls (but tab and newline), format characters."""
    return ch not in "\t\n" and unicodedata.category(ch) in ("Cc", "Cf")


def changed_positions(before: str, after: str) -> set[int]:
    shown = PLACEHOLDER.sub("\ue000", after)
    sm = difflib.SequenceMatcher(None, before, shown, autojunk=False)
    kept: set[int] = set()
    for a, _b, size in sm.get_matching_blocks():
        kept.update(range(a, a + size))
    return set(range(len(before))) - kept


@dataclass
class Figures:
    spans: int = 0
    masked_spans: int = 0
    pii_chars: int = 0
    masked_pii_chars: int = 0
    other_chars: int = 0
    changed_other_chars: int = 0
    benign: int = 0
    benign_changed: int = 0
    controls_left: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    missed: list[tuple[str, str, str]] = field(default_factory=list)
    over: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.masked_spans / self.spans

    @property
    def char_recall(self) -> float:
        return self.masked_pii_chars / self.pii_chars

    @property
    def over_masking(self) -> float:
        return self.changed_other_chars / self.other_chars

    @property
    def benign_changed_share(self) -> float:
        return self.benign_changed / self.benign

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {m}/{n}" for k, (m, n) in sorted(self.by_kind.items()))
        return (
            f"recall {self.recall:.3f} ({self.masked_spans}/{self.spans} spans; characters "
            f"{self.char_recall:.3f}); over-masking {self.over_masking:.4f} "
            f"({self.changed_other_chars}/{self.other_chars} characters outside PII); ordinary "
            f"questions changed {self.benign_changed}/{self.benign} "
            f"({self.benign_changed_share:.3f}); control characters left {self.controls_left}"
            f"\nby kind: {kinds}"
        )


def measure(mask: Callable[[str], str], corpus: list[dict] | None = None) -> Figures:
    fig = Figures()
    for item in corpus if corpus is not None else load_corpus():
        text = item["text"]
        out = mask(text)
        changed = changed_positions(text, out)
        fig.controls_left += sum(1 for ch in out if is_control(ch))
        in_pii: set[int] = set()
        for span in item["pii"]:
            start = text.index(span["text"])
            pos = set(range(start, start + len(span["text"])))
            in_pii |= pos
            done = pos <= changed
            fig.spans += 1
            fig.masked_spans += done
            fig.pii_chars += len(pos)
            fig.masked_pii_chars += len(pos & changed)
            m_n = fig.by_kind.setdefault(span["kind"], [0, 0])
            m_n[0] += done
            m_n[1] += 1
            if not done:
                fig.missed.append((span["kind"], span["text"], out))
        other = {i for i in range(len(text)) if i not in in_pii and not is_control(text[i])}
        fig.other_chars += len(other)
        fig.changed_other_chars += len(other & changed)
        if other & changed:
            fig.over.append((text, out))
        if not item["pii"] and not any(is_control(ch) for ch in text):
            fig.benign += 1
            fig.benign_changed += out != text
    return fig


def test_the_corpus_is_big_enough_and_well_formed():
    corpus = load_corpus()
    with_pii = [c for c in corpus if c["pii"]]
    benign = [c for c in corpus if not c["pii"] and not any(map(is_control, c["text"]))]
    assert len(with_pii) >= 100 and len(benign) >= 100
    assert len({c["id"] for c in corpus}) == len(corpus)
    kinds = {s["kind"] for c in with_pii for s in c["pii"]}
    assert kinds == {
        "phone", "email", "mynumber", "card", "account", "id", "birthdate", "address", "name"
    }  # fmt: skip
    for c in with_pii:
        for s in c["pii"]:
            assert s["text"] in c["text"], c["id"]
    # digits of ordinary questions: the benign side is not trivially free of numbers
    assert sum(1 for c in benign if re.search(r"[0-9０-９]", c["text"])) >= 100


def test_recall_and_over_masking_on_the_corpus():
    fig = measure(mask_pii)
    detail = "\n".join(f"missed {k}: {s!r} -> {o!r}" for k, s, o in fig.missed[:20])
    detail += "\n" + "\n".join(f"over: {t!r} -> {o!r}" for t, o in fig.over[:20])
    assert fig.recall >= 0.98, fig.summary() + "\n" + detail
    assert fig.over_masking <= 0.02, fig.summary() + "\n" + detail
    assert fig.benign_changed_share <= 0.02, fig.summary() + "\n" + detail
    assert fig.controls_left == 0, fig.summary()


def test_the_measure_can_fail():
    """The metric itself: a masker that does nothing has no recall, one that masks
    everything over-masks everything."""
    corpus = load_corpus()
    nothing = measure(lambda t: t, corpus)
    assert nothing.recall == 0 and nothing.over_masking == 0
    everything = measure(lambda t: "[伏]", corpus)
    assert everything.recall == 1 and everything.over_masking == 1


# The forms the review found getting through, one by one (each failed before the fix).
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("+81 (0)90-1234-5678", "1234"),
        ("090 - 1234 - 5678", "1234"),
        *[(f"090{d}1234{d}5678", "1234") for d in "ー−–—‐ｰ－―"],
        ("〇九〇ー一二三四ー五六七八", "一二三四"),
        ("फोन ०९०-१२३४-५६७८", "१२३४"),
        ("０９０１２３４５６７８", "１２３４"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "ｔａｒｏ"),
        ("taro@localhost", "taro"),
        ("マイナンバー 1234 5678 9012", "5678"),
        ("4111 1111 1111 1111", "4111"),
        ("5500-0000-0000-0004", "5500"),
        ("普通 1234567", "1234567"),
        ("口座番号は7654321です", "7654321"),
        ("生年月日は1985/4/1です", "1985"),
        ("昭和60年4月1日生まれです", "60"),
        ("誕生日は平成2年5月3日", "平成2年"),
        ("1985/4/1生まれ", "1985"),
        ("住所は北海道みどり川町港町1-2-3です", "港町1-2-3"),
        ("名前は山田太郎です", "山田"),
        ("氏名：鈴木 花子", "鈴木"),
        ("私は佐藤と申します", "佐藤"),
        ("I was born in 1990 in Brazil", "1990"),
    ],
)
def test_forms_that_got_through_are_masked(text, secret):
    out = mask_pii(text)
    assert secret not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "自宅は2024年に建てました",
        "電話で12345件の相談がありました",
        "口座振替は毎月27日",
        "カードの再発行は1,100円",
        "普通徴収で年4回",
        "TEL受付は8:30-17:15",
        "生年月日欄の書き方",
        "〒123-4567 北海道",
        "平成生まれです",
        "マイナンバーカード交付率は80%",
        "my name is not important",
    ],
)
def test_words_that_announce_personal_data_alone_mask_nothing(text):
    assert mask_pii(text) == text


def test_an_email_address_is_masked_alone():
    assert mask_pii("メールはtaro.yamada@example.jpです") == "メールは[メール]です"
    assert mask_pii("連絡はhanako@example.jpまで") == "連絡は[メール]まで"


@pytest.mark.parametrize(
    "text",
    ["NUL\x00here", "ESC\x1b[2Jclear", "bell\x07", "C1\x85\x9bthere", "DEL\x7f", "RLO\u202eoff"],
)
def test_control_characters_are_not_kept(text):
    out = mask_pii(text)
    assert not any(is_control(ch) for ch in out), repr(out)
    assert out == re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", "", text)


def test_tab_and_newline_stay():
    assert mask_pii("一行目\n\t二行目") == "一行目\n\t二行目"
    assert mask_pii("一行目\r\n二行目\r三行目") == "一行目\n二行目\n三行目"


def test_control_characters_do_not_hide_pii():
    assert "1234" not in mask_pii("090\x001234\x005678")
    assert "taro" not in mask_pii("ta\u200bro@exa\u200bmple.jp")


def test_the_log_masks_question_and_comment_but_not_the_towns_answer(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")
    t = log.record(
        question="名前は山田太郎です。\x1b[2J住民票を090-1234-5678に届けて",
        lang="ja",
        answer="住民課（01234-5-1101）へお問い合わせください。\x00",
        citations=[],
        refused=False,
        mode="faq",
        confidence=0.9,
        latency_ms=1.0,
    )
    log.feedback(t.id, False, "住所は港町1-2-3です。\x07折り返しを")
    got = log.get(t.id)
    assert got is not None
    assert "山田" not in got.question and "1234" not in got.question and "\x1b" not in got.question
    assert got.answer == "住民課（01234-5-1101）へお問い合わせください。"
    assert got.comment is not None and "1-2-3" not in got.comment and "\x07" not in got.comment


def test_an_answer_that_repeats_the_residents_own_data_is_masked_there_too(tmp_path):
    log = ConversationLog(tmp_path / "log.sqlite")
    t = log.record(
        question="〇九〇ー一二三四ー五六七八の山田太郎と申します。転入の手続きは？",
        lang="ja",
        answer="山田太郎様、090-1234-5678 への折り返しはできません。住民課 01234-5-1101 へ。",
        citations=[],
        refused=False,
        mode="llm",
        confidence=0.9,
        latency_ms=1.0,
    )
    got = log.get(t.id)
    assert got is not None
    assert "山田" not in got.answer and "1234-5678" not in got.answer
    assert "01234-5-1101" in got.answer


def test_masking_is_fast_on_hostile_input():
    """Every pattern stays linear: the longest question the service takes (2,000
    characters) in shapes that make a backtracking pattern blow up. The previous masker
    took 4 s on ``"1-" * 5000``."""
    import time

    n = 2000
    hostile = [
        "0" + " " * n,
        "1-" * (n // 2),
        "a" * n + "@",
        "a." * (n // 2) + "@b",
        "住所は" + "あ" * n,
        "名前は" + "山" * n,
        "名前は" + "山 " * (n // 2),
        "生年月日" + "1985/" * (n // 5),
        "090 " * (n // 4),
        "港" * n + "に住",
        "1丁目" * (n // 3),
        "電話" * (n // 2),
        "my name is " + "Ab " * (n // 3),
    ]
    start = time.perf_counter()
    for text in hostile:
        mask_pii(text)
    assert time.perf_counter() - start < 2.0


def real_questions(shared: Path | None) -> list[str]:
    import csv

    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "demo").glob("faq*.csv"))
    if shared is not None:
        files += sorted(shared.glob("*/faq.csv"))
    out = []
    for f in files:
        with f.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        col = next(
            (i for i, h in enumerate(rows[0]) if h.strip() in ("質問", "question", "Question")),
            None,
        )
        if col is not None:
            out += [r[col] for r in rows[1:] if len(r) > col and r[col].strip()]
    for f in [
        *sorted((root / "demo").glob("eval*.jsonl")),
        *sorted((root / "eval" / "datasets").glob("*.jsonl")),
    ]:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line).get("question")
                if q:
                    out.append(q)
    return out


def test_real_municipal_questions_come_out_as_they_went_in():
    """The FAQ questions of our demo town (all its languages) and the evaluation sets:
    questions about fees, dates, times and places, none with a resident's data."""
    from tests.conftest import SHARED_DATA

    questions = real_questions(SHARED_DATA if SHARED_DATA.is_dir() else None)
    assert len(questions) >= 300
    changed = [(q, mask_pii(q)) for q in questions if mask_pii(q) != q.replace("\r\n", "\n")]
    assert changed == []


if __name__ == "__main__":
    fig = measure(mask_pii)
    print(fig.summary())
    for k, s, o in fig.missed:
        print(f"  missed {k}: {s!r} -> {o!r}")
    for t, o in fig.over:
        print(f"  over: {t!r} -> {o!r}")
