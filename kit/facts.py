"""What kind of fact a question asks for, and whether a passage holds one.

A resident asking 「いくら？」 wants a fee; 「どこで？」 a place; 「何時まで？」 a time;
「何が必要？」 the things to bring. A near-neighbour entry (the 住基カード suspension
entry for "I want to make a 住基カード") often lacks the kind of fact asked for, and the
part of a long document that answers is the one that holds it (「1台4000円」, not the
radio's features). This module names the kinds and finds them:

- ``asked(question)``: the kinds a question asks for (Japanese and the other widget
  languages' common question words);
- ``present(kind, text)``: whether a text holds a fact of that kind (a figure with 円,
  a clock time, a date or weekday, a phone number, a place or counter, a list of things
  to bring, a condition of eligibility).

Written from the shape of municipal FAQ answers, not fitted on any question set; its
agreement with the ``asks`` labels of our held-out sets is reported in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import re
import unicodedata

KINDS = ("fee", "time", "date", "place", "phone", "documents")

_ASKED: dict[str, re.Pattern[str]] = {
    "fee": re.compile(
        r"いくら|何円|料金|費用|手数料|値段|金額|負担額|お金|無料|有料|タダ|かかる[？?]|かかりますか"
        r"|how much|cost|fee|price|charge|free of charge|多少钱|費用|多少錢|얼마|비용|bao nhiêu|giá"
        r"|quanto custa|preço|cuánto cuesta|precio|magkano|kitna|कति|berapa",
        re.IGNORECASE,
    ),
    "time": re.compile(
        r"何時|なん時|時間帯|営業時間|開庁時間|受付時間|開館時間|何分|いつまで開|何時まで"
        r"|what time|opening hours|office hours|几点|幾點|몇 시|mấy giờ|horário|que horas"
        r"|a qué hora|horario|anong oras|jam berapa",
        re.IGNORECASE,
    ),
    "date": re.compile(
        r"いつ|何日|何曜|曜日|日程|日時|期限|締め?切|期間|何月|収集日|when|which day|what day"
        r"|deadline|什么时候|什麼時候|언제|khi nào|quando|cuándo|kailan|kapan",
        re.IGNORECASE,
    ),
    "place": re.compile(
        r"どこ|何処|場所|窓口|会場|どの課|担当課|where|在哪|哪里|哪裡|어디|ở đâu|onde|dónde"
        r"|saan|कहाँ|di mana",
        re.IGNORECASE,
    ),
    "phone": re.compile(
        r"電話|連絡先|問い?合わ?せ先|phone|call|telephone|电话|전화|điện thoại"
        r"|telefone|teléfono|telepono",
        re.IGNORECASE,
    ),
    "documents": re.compile(
        r"必要なもの|必要な物|必要書類|何が必要|なにが必要|持ち物|持っていく|持参|書類|何を持"
        r"|what do i need|documents?|bring|需要什么|需要什麼|준비물|서류|giấy tờ|documentos"
        r"|qué necesito|kailangan|dokumen",
        re.IGNORECASE,
    ),
}

_PRESENT: dict[str, re.Pattern[str]] = {
    "fee": re.compile(r"\d[\d,]*\s*円|無料|有料|無償|負担はありません|かかりません|手数料|料金"),
    "time": re.compile(r"\d{1,2}\s*時|\d{1,2}:\d{2}|午前|午後|時間"),
    "date": re.compile(
        r"\d{1,2}\s*月|\d{1,2}\s*日|[月火水木金土日]曜|毎週|第\s*\d|以内|まで|から|年度|期限|祝日"
    ),
    "place": re.compile(
        r"課|係|窓口|センター|会場|役場|役所|庁舎|支所|出張所|館|階|場所|施設|事務所|郵便局|コンビニ"
    ),
    "phone": re.compile(r"\d{2,5}\s*[-‐－ー()（）]\s*\d{1,4}\s*[-‐－ー()（）]\s*\d{3,4}|電話"),
    "documents": re.compile(
        r"必要|持参|お持ち|書類|証明|印鑑|本人確認|カード|通帳|保険証|申請書|届出書|免許"
    ),
}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def asked(question: str) -> tuple[str, ...]:
    """The kinds of fact the question asks for, in ``KINDS`` order (often none)."""
    q = _norm(question)
    return tuple(k for k in KINDS if _ASKED[k].search(q))


def present(kind: str, text: str) -> bool:
    """Whether ``text`` holds a fact of ``kind``."""
    pattern = _PRESENT.get(kind)
    return bool(pattern and pattern.search(_norm(text)))


def missing(question: str, text: str) -> float:
    """The share of the kinds the question asks for that ``text`` does not hold
    (0 when it asks for none)."""
    kinds = asked(question)
    if not kinds:
        return 0.0
    return sum(1 for k in kinds if not present(k, text)) / len(kinds)
