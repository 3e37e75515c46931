"""Personal data in what residents type, found and masked before the conversation log keeps it.

``mask_pii(text)`` is what the log stores instead of a question or a comment;
``clean_text`` is its first step (control characters out); ``find_pii`` gives the
spans and their kinds; ``mask_echo`` masks in an answer what the resident's own
question held (a generated answer that repeats their name or number), and nothing
else of the answer (the town's phone numbers in it stay).

How it finds things, and why that way:

- **Control characters go first** (C0/C1 but tab and newline, DEL, zero-width and
  bidirectional marks): they can make the admin screen, a terminal or a spreadsheet
  show something else than what is stored, and they split a number so that no pattern
  sees it (``090<NUL>1234<NUL>5678``).
- **Shadows of the text.** Patterns run on copies of the same length in which
  full-width letters and digits, every kind of space and (for numbers) every kind of
  dash and the kanji digits 〇一二…九 are folded to ASCII; the spans found there mask
  the original. So ０９０ー１２３４, 〇九〇—一二三四 and 090-1234 are one number,
  without a list of forms.
- **Numbers are judged by what they hold, not by one layout.** A run of digit groups
  (separated by spaces, dashes, dots, slashes, brackets) is a phone number when it
  holds 10–11 digits beginning with 0 (or 8–15 after a +), a My Number when it holds
  12 in one group, 4-4-4 or digit by digit, a card number when 14–19 in card groupings;
  a run that is none of these is tried in parts (a date next to a phone number). A
  number after a word that says what it is (口座, 電話, 被保険者番号, passport …) is
  masked when it is shorter, unless a unit follows it (円, 年, 時, 歳 …).
- **Birth dates, addresses and names have no shape of their own**, so they are masked
  where the text says what they are: 生年月日は…, …生まれ, 住所は…, …に住んでいます,
  名前は…です, …と申します, and the commonest phrasings of the widget's other
  languages. A house number (3丁目5番12号, 港町1-2-3) is masked wherever it stands.
- **E-mail addresses are ASCII** (after folding): the words around one
  (メールはtaro@example.jpです) are not part of it.
- What must stay (fees, dates, times, years, counts, ages, postcodes, 13-digit
  corporate numbers): ``tests/security/pii_corpus.jsonl`` measures both sides.

Every quantifier is bounded or runs over a class that cannot overlap its neighbour,
so masking stays linear on hostile input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["PLACEHOLDERS", "Pii", "clean_text", "find_pii", "mask_echo", "mask_pii"]

PLACEHOLDERS = {
    "email": "[メール]",
    "card": "[カード]",
    "mynumber": "[番号]",
    "phone": "[電話]",
    "account": "[口座]",
    "id": "[番号]",
    "birthdate": "[生年月日]",
    "address": "[住所]",
    "name": "[氏名]",
}
_PRIORITY = {kind: i for i, kind in enumerate(PLACEHOLDERS)}
NUMBER_KINDS = frozenset({"card", "mynumber", "phone", "account", "id"})


@dataclass(frozen=True)
class Pii:
    start: int
    end: int
    kind: str


# ------------------------------------------------------------------ cleaning


def clean_text(text: str) -> str:
    """Drop control and format characters (but tab and newline); CR and CRLF become LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    if text.isascii() and all(ch in "\t\n" or " " <= ch < "\x7f" for ch in text):
        return text
    return "".join(
        ch for ch in text if ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cf")
    )


# ------------------------------------------------------------------ shadows


def _fold_table(digits: bool) -> dict[int, str]:
    """A ``str.translate`` table folding one character to one character (lengths stay)."""
    table = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    for ch in "\u3000\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008":
        table[ord(ch)] = " "
    for ch in "\u2009\u200a\u202f\u205f":
        table[ord(ch)] = " "
    if digits:
        # dashes a number can be written with; ー (the katakana long mark) is one of
        # them only here, where it sits between digits
        for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff70ー":
            table[ord(ch)] = "-"
        for d, ch in enumerate("〇一二三四五六七八九"):
            table[ord(ch)] = str(d)
        table[ord("○")] = "0"
    return table


_WIDE = _fold_table(digits=False)
_NUM = _fold_table(digits=True)
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # Devanagari, Arabic-Indic … digits


def _shadows(text: str) -> tuple[str, str]:
    """``text`` with letters and blanks folded, and with numbers folded too."""
    if text.isascii():
        return text, text
    num = text.translate(_NUM)
    if _OTHER_DIGIT.search(num):
        num = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m[0])), num)
    return text.translate(_WIDE), num


# ------------------------------------------------------------------ numbers

_SEP = r"(?:[ \t]{0,3}[-./()・]{1,2}[ \t]{0,3}|[ \t]{1,3})"
_RUN = re.compile(rf"(?<![0-9])[0-9]+(?:{_SEP}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_PLUS = re.compile(r"\+[ \t]{0,2}\Z")
_TOLL_FREE = ("0120", "0800", "0570", "0990")
_CARD_LAYOUTS = ([4, 6, 5], [4, 6, 4])


def _regular(lens: list[int]) -> bool:
    """One group, digit by digit, or equal groups (the last may be shorter): 4-4-4."""
    if len(lens) == 1 or all(n == 1 for n in lens):
        return True
    head = lens[:-1]
    return len(set(head)) == 1 and head[0] >= 3 and 1 <= lens[-1] <= head[0]


def _number_kind(digits: str, lens: list[int], plus: bool) -> str | None:
    n = len(digits)
    if plus:
        return "phone" if 8 <= n <= 15 else None
    # a grouped Japanese number ends in the 4-digit subscriber part (toll-free: 3)
    ends_right = lens[-1] == 4 or (lens[-1] == 3 and digits.startswith(_TOLL_FREE))
    if digits[0] == "0" and n in (10, 11) and (len(lens) == 1 or (len(lens) <= 4 and ends_right)):
        return "phone"
    if n == 12 and _regular(lens):
        return "mynumber"
    if 14 <= n <= 19 and (_regular(lens) or lens in _CARD_LAYOUTS):
        return "card"
    return None


def _numbers(num: str) -> list[Pii]:
    found: list[Pii] = []
    for run in _RUN.finditer(num):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run[0])]
        plus = _PLUS.search(num, max(0, run.start() - 3), run.start()) is not None
        i = 0
        while i < len(groups):
            best: tuple[int, str] | None = None
            digits = ""
            lens: list[int] = []
            for j in range(i, len(groups)):
                digits += num[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                lens.append(groups[j][1] - groups[j][0])
                kind = _number_kind(digits, lens, plus and i == 0)
                if kind:
                    best = (j, kind)
            if best is None:
                i += 1
                continue
            start, end = groups[i][0], groups[best[0]][1]
            if plus and i == 0:
                start = num.rindex("+", 0, start)
            found.append(Pii(*_brackets(num, start, end), best[1]))
            i = best[0] + 1
    return found


def _brackets(num: str, start: int, end: int) -> tuple[int, int]:
    """Take in the opening bracket of ``(03) 1234-5678`` and the closing one of ``(090)``."""
    inner = num[start:end]
    before = num[:start].rstrip(" \t")
    if before.endswith("(") and ")" in inner and inner.count("(") < inner.count(")"):
        start = len(before) - 1
    return start, end


# Words that say what the next number is. Longest first within each kind.
_PHONE_WORDS = (
    r"電話番号|電話|でんわ|携帯番号|携帯|ケータイ|スマホ|連絡先|自宅|ファックス|ファクス|"
    r"(?i:\btel|\bfax|phone|\bmobile|\bcell)|điện thoại|电话|電話號碼|전화|telefone|teléfono|telepono"
)
_ACCOUNT_WORDS = r"口座番号|口座|普通預金|普通|当座預金|当座|貯金|ゆうちょ|記号|(?i:account)"
_ID_WORDS = (
    r"マイナンバー|個人番号|被保険者番号|保険者番号|保険証番号|保険証|記号番号|基礎年金番号|"
    r"年金番号|免許証番号|免許証|カード番号|クレジット|納付番号|受給者番号|住民票コード|"
    r"旅券番号|旅券|パスポート|在留カード番号|在留カード|(?i:passport|my ?number|card)"
)
# (a postcode, a corporate number: public, not personal)
_GENERIC_WORDS = r"(?<!郵便)(?<!法人)番号|ナンバー|No\.|(?i:number)"
_CONTEXT = re.compile(
    rf"(?P<phone>{_PHONE_WORDS})|(?P<account>{_ACCOUNT_WORDS})|(?P<id>{_ID_WORDS})"
    rf"|(?P<generic>{_GENERIC_WORDS})"
)
_CONTEXT_VALUE = re.compile(
    rf"[^0-9\n。.!?！？]{{0,8}}?(?P<v>(?<![A-Za-z])(?:[A-Z]{{1,2}})?[0-9]+(?:{_SEP}[0-9]+)*(?:[A-Z]{{1,2}})?)"
    r"(?![0-9]|[ \t]?[年月日円時分秒歳才人件回個枚点%％階])"
)
# kind found, kind stored, fewest and most digits
_CONTEXT_RULES = {
    "phone": ("phone", 5, 15),
    "account": ("account", 5, 14),  # ゆうちょ: 記号 and 番号 written together, 13
    "id": ("id", 4, 19),
    "generic": ("id", 8, 12),
}
_RESIDENCE_CARD = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{8}[A-Z]{2}(?![A-Za-z0-9])")


def _context_numbers(wide: str, num: str) -> list[Pii]:
    """Words are read in ``wide`` (コード keeps its ー), numbers in ``num``: same offsets."""
    found = [Pii(m.start(), m.end(), "id") for m in _RESIDENCE_CARD.finditer(num)]
    for word in _CONTEXT.finditer(wide):
        value = _CONTEXT_VALUE.match(num, word.end())
        if value is None:
            continue
        kind, fewest, most = _CONTEXT_RULES[word.lastgroup or "generic"]
        n = sum(ch.isdigit() for ch in value["v"])
        if fewest <= n <= most:
            found.append(Pii(value.start("v"), value.end("v"), kind))
    return found


# ------------------------------------------------------------------ e-mail (wide shadow)

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+"
    r"[ \t]{0,2}(?:@|\((?i:at)\)|\[(?i:at)\]|アットマーク)[ \t]{0,2}"
    rf"{_LABEL}(?:[ \t]{{0,2}}(?:\.|\((?i:dot)\)|\[(?i:dot)\]|ドット)[ \t]{{0,2}}{_LABEL}){{0,10}}"
)


# ------------------------------------------------------------------ birth dates (number shadow)

_N2 = r"[0-9]{1,2}"
_KN = r"(?:[0-9]?十[0-9]?|[0-9]{1,2})"  # 12, or 十二 / 二十五 once the kanji digits are folded
_MD_JA = rf"[ \t]?{_KN}[ \t]?月(?:[ \t]?{_KN}[ \t]?日)?"
_ERA = r"(?:明治|大正|昭和|平成|令和|(?<![A-Za-z])[MTSHR]\.?)"
_DATE = (
    rf"(?:{_ERA}[ \t]?(?:元|{_KN})(?:[ \t]?年(?:{_MD_JA})?|[./\-]{_N2}(?:[./\-]{_N2})?)"
    rf"|{_N2}[./\-]{_N2}[./\-](?:19|20)[0-9]{{2}}"
    rf"|(?:19|20)[0-9]{{2}}(?:[ \t]?年(?:{_MD_JA})?|[ \t]?[./\-][ \t]?{_N2}(?:[ \t]?[./\-][ \t]?{_N2})?)"
    r"|(?i:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?[ \t][0-9]{1,2}"
    r"(?:st|nd|rd|th)?,?[ \t](?:19|20)[0-9]{2})"
    r"|(?i:[0-9]{1,2}(?:st|nd|rd|th)?[ \t](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]{0,6}\.?,?[ \t](?:19|20)[0-9]{2})"
    rf"|{_KN}[ \t]?月[ \t]?{_KN}[ \t]?日|{_N2}/{_N2}|(?:19|20)[0-9]{{2}}(?![0-9]))"
)
_BIRTH_WORDS = (
    r"生年月日|出生年月日|お誕生日|誕生日|生まれ(?:は|た(?:の|日)は?)|出生日|"
    r"(?i:date of birth|birth[ \t]?date|birthday|\bd\.?o\.?b\b\.?|\bborn(?:[ \t]on|[ \t]in)?)|"
    r"(?i:ngày sinh|sinh ngày|data de nascimento|nascid[oa] em|fecha de nacimiento|nac[ií] el|"
    r"kaarawan)|出生日期|生日|생년월일|생일"
)
_BIRTH_BEFORE = re.compile(rf"(?:{_BIRTH_WORDS})[^0-9\n。!?！？]{{0,8}}?(?P<v>{_DATE})")
_BIRTH_AFTER = re.compile(
    rf"(?P<v>{_DATE})[ \t]?(?:に|の|、)?[ \t]?"
    # not a cohort: 2005年4月1日生まれの人 / 以降 / まで is who a rule is for, not someone
    r"(?>生まれ|うまれ|誕生|出生|生(?![\u4e00-\u9fff])|(?i:born))"
    r"(?!の(?:人|方|世代|子ども)|た(?:人|方)|以降|以前|まで|から)"
)


# ------------------------------------------------------------------ addresses (number shadow)

# a house number, or a lot number of three digits or more that is not a year, a sum …
_ADDR_NUM = re.compile(
    r"[0-9]{1,5}[ \t]?(?:丁目|番地|番|号|条|線|-[ \t]?[0-9])"
    r"|[0-9]{3,}(?![0-9]|[ \t]?[年月日円時分秒歳才人件回個枚点%％階])"
)
_ADDR_END = (
    r"(?=[。，,．!！?？\n「」、]|です|でした|ます|に住|へ引|に引|から|まで|なので|なん|"
    r"だけど|だが|の者|$)"
)
_ADDR_AFTER_WORD = re.compile(
    r"(?:現住所|住所|お住まい|住まい|居所|自宅|実家)(?:[ \t]?(?:は|が|:|：|、)[ \t]?|[ \t]){1,3}"
    rf"(?P<v>[^\n]{{1,60}}?){_ADDR_END}"
)
_ADDR_INTRO = re.compile(
    r"(?:(?i:my address is|address[ \t]?:|(?:i|we) live at|địa chỉ(?: của tôi)?(?: là)?|"
    r"meu endereço é|endereço:|mi dirección es|dirección:)|我的地址是|地址是|地址：|주소는)"
    r"[ \t]?(?P<v>[^.!?\n。]{1,60}?)(?=[.!?\n。]|$|[ \t](?i:and|but|so)\b)"
)
_RESIDENCE_VERB = re.compile(r"に住|に在住|在住|へ引っ越|に引っ越|に転居|へ転居|に移り住")
# what stands before the verb: no blanks, no kana particles, no punctuation
_ADDR_CHAR = re.compile(r"[^\s\u3040-\u309f。、，,．!！?？「」()（）:：]")
_N4 = r"[0-9]{1,4}"
_HOUSE_NUMBER = re.compile(
    rf"(?<![0-9])(?:{_N4}[ \t]?丁目[ \t]?{_N4}[ \t]?(?:番地?|-)[ \t]?(?:{_N4}(?:[ \t]?号|-{_N4})?)?"
    rf"|{_N4}[ \t]?番地(?:[ \t]?(?:の|-)[ \t]?{_N4}[ \t]?号?)?"
    rf"|{_N4}[ \t]?番[ \t]?{_N4}[ \t]?号"
    r"|(?<=[\u4e00-\u9fff\u30a0-\u30ffヶ々 ])[0-9]{1,3}-[0-9]{1,4}-[0-9]{1,4}(?:-[0-9]{1,4})?)"
    r"(?![0-9])"
)


def _addresses(num: str) -> list[Pii]:
    found = []
    for rx in (_ADDR_AFTER_WORD, _ADDR_INTRO):
        for m in rx.finditer(num):
            if m["v"] and _ADDR_NUM.search(m["v"]):
                found.append(Pii(m.start("v"), m.end("v"), "address"))
    for verb in _RESIDENCE_VERB.finditer(num):  # …に住んでいます: read back from the verb
        start = verb.start()
        while start > max(0, verb.start() - 40) and _ADDR_CHAR.match(num, start - 1):
            start -= 1
        if verb.start() - start >= 2 and _ADDR_NUM.search(num, start, verb.start()):
            found.append(Pii(start, verb.start(), "address"))
    found += [Pii(m.start(), m.end(), "address") for m in _HOUSE_NUMBER.finditer(num)]
    return found


# ------------------------------------------------------------------ names (wide shadow)

_NC = (
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ\u30a1-\u30fa\u30fc-\u30fe"
    r"A-Za-z\u00c0-\u024f\u1e00-\u1effｦ-ﾟ]"
)
# later parts may be in hiragana (阿部 さくら), as short as the ending allows
_NAME = rf"{_NC}{{1,12}}(?:[ ・](?:{_NC}{{1,12}}|(?!です|でし|でござ|と申|とい|と言)[ぁ-ゖ]{{1,8}}?)){{0,3}}"
_READING = r"(?:[ \t]?[(（][ぁ-ゖァ-ヺー ]{2,20}[)）])?"
_NAME_END = (
    r"(?=[ \t]?(?:です(?!か)|でございます|と申|と(?:いい|言い|云い)ます|さん|様|"
    r"[。、,，.!！\n(（]|$)|[ \t])"
)
_NAME_AFTER_WORD = re.compile(
    r"(?:お名前|名前|氏名|フルネーム|名義人|名義|世帯主|申請者|申込者|契約者|フリガナ|ふりがな|"
    r"苗字|名字|姓名)(?:[ \t]?(?:は|:|：|、)[ \t]?|[ \t]){1,2}"
    rf"(?P<v>(?:{_NAME}|[ぁ-ゖ]{{2,8}}?(?:[ ][ぁ-ゖ]{{2,8}}?)?){_READING}){_NAME_END}"
)
_NAME_BEFORE_VERB = re.compile(
    rf"(?P<v>{_NAME}|(?:(?<=[はが、。 \n])|^)[ぁ-ゖ]{{2,8}})"
    r"(?=[ \t]?(?:と申し|と申す|と(?:いい|言い|云い)ます))"
)
_LATIN = r"[A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿ][a-zß-öø-ÿĀ-ɏḀ-ỿ'’\-]*"
_PARTICLE = r"(?:de|da|do|dos|das|del|dela|de la|van|von|der|den|le|la|bin|binti|al)"
_NAME_INTRO = re.compile(
    r"(?i:\bmy name is|\bmy name's|\bname[ \t]?:|\bfull name[ \t]?:|tôi tên là|tên tôi là|tôi là|"
    r"meu nome é|me chamo|me llamo|mi nombre es|ang pangalan ko ay|\bako si)[ \t]?"
    rf"(?P<v>{_LATIN}(?:[ \t](?:{_PARTICLE}[ \t])?{_LATIN}){{0,3}})"
)
_NAME_CJK = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|我姓)(?P<v>[\u4e00-\u9fff]{1,4}?)"
    r"(?=[，,。.!！?？\s、]|想|要|是|的|住|在|$)"
    r"|(?:제 이름은|내 이름은)[ \t]?(?P<k>[가-힣]{2,4}?)(?=입니다|이에요|예요|이고|라고|[ ,.。]|$)"
    r"|मेरो नाम[ \t]?(?P<n>[\u0900-\u097f]+(?:[ \t][\u0900-\u097f]+)?)[ \t]?(?=हो|$)"
)


def _names(wide: str) -> list[Pii]:
    found = []
    for rx in (_NAME_AFTER_WORD, _NAME_BEFORE_VERB, _NAME_INTRO):
        found += [Pii(m.start("v"), m.end("v"), "name") for m in rx.finditer(wide)]
    for m in _NAME_CJK.finditer(wide):
        group = next(g for g in ("v", "k", "n") if m[g])
        found.append(Pii(m.start(group), m.end(group), "name"))
    return found


# ------------------------------------------------------------------ together


def find_pii(text: str) -> list[Pii]:
    """Spans of personal data in ``text`` (cleaned with ``clean_text`` first), in order,
    not overlapping."""
    wide, num = _shadows(text)
    found = [Pii(m.start(), m.end(), "email") for m in _EMAIL.finditer(wide)]
    found += _numbers(num)
    found += _context_numbers(wide, num)
    for rx in (_BIRTH_BEFORE, _BIRTH_AFTER):
        found += [Pii(m.start("v"), m.end("v"), "birthdate") for m in rx.finditer(num)]
    found += _addresses(num)
    found += _names(wide)
    return _merge(text, found)


def _merge(text: str, found: list[Pii]) -> list[Pii]:
    spans: list[Pii] = []
    for p in sorted(found, key=lambda p: (p.start, -p.end, _PRIORITY[p.kind])):
        start, end = p.start, p.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        if spans and start < spans[-1].end:
            last = spans[-1]
            if end > last.end:
                spans[-1] = Pii(last.start, end, last.kind)
            continue
        spans.append(Pii(start, end, p.kind))
    return spans


def _replace(text: str, spans: list[Pii]) -> str:
    out, at = [], 0
    for p in spans:
        out += [text[at : p.start], PLACEHOLDERS[p.kind]]
        at = p.end
    out.append(text[at:])
    return "".join(out)


def mask_pii(text: str) -> str:
    """``text`` without control characters and with its personal data replaced by
    placeholders (``[電話]``, ``[メール]``, ``[番号]``, ``[カード]``, ``[口座]``,
    ``[生年月日]``, ``[住所]``, ``[氏名]``)."""
    text = clean_text(text)
    return _replace(text, find_pii(text))


def mask_echo(text: str, source: str) -> str:
    """``text`` (an answer) cleaned, with what ``find_pii`` finds in ``source`` (the
    question it answers) masked wherever it is repeated: a number by its digits, however
    it is written, anything else as written. The rest of ``text`` stays as it is."""
    text = clean_text(text)
    source = clean_text(source)
    numbers, words = [], []
    src_num = _shadows(source)[1]
    for p in find_pii(source):
        if p.kind in NUMBER_KINDS:
            digits = re.sub(r"[^0-9]", "", src_num[p.start : p.end])
            if len(digits) >= 5:
                numbers.append((digits, p.kind))
        elif len(source[p.start : p.end].strip()) >= 2:
            words.append((source[p.start : p.end], p.kind))
    if not numbers and not words:
        return text
    found = []
    num = _shadows(text)[1]
    for run in _RUN.finditer(num):
        digits = re.sub(r"[^0-9]", "", run[0])
        for known, kind in numbers:
            if len(digits) >= 5 and (digits in known or known in digits):
                found.append(Pii(run.start(), run.end(), kind))
                break
    for word, kind in words:
        found += [Pii(m.start(), m.end(), kind) for m in re.finditer(re.escape(word), text)]
    return _replace(text, _merge(text, found))
