"""Language of a resident's question, the codes the kit accepts, and its fixed phrases.

Detection is offline (py3langid) with rules it gets wrong on its own for a Japanese
town (:func:`detect`): kana means Japanese, Hangul Korean, Devanagari Nepali; a text
of kanji alone is Chinese only when it has characters or words Japanese does not
write, and otherwise a term either language may use (住民票, 国民健康保険); an English
sentence quoting a Japanese term is English. :func:`answer_language` turns that into
the language an answer is given in, with the widget's menu as the prior for text that
says too little (``OK``, ``TV``, *juminhyo*, a phone number, an emoji).

Codes are the widget's (BCP 47 style): ``ja, en, zh-Hans, zh-Hant, ko, vi, pt, es, tl,
ne, id`` and ``ja-easy`` for やさしい日本語. :func:`normalise_lang` maps the spellings
residents' browsers and towns' CSV headers use (``zh``, ``zh-CN``, ``zh_TW``, ``pt-BR``,
``fil``, ``easy-ja`` …) onto them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from madoguchi.kit.errors import InputError

# Languages the kit answers in (fixed phrases, FAQ translation columns), widget codes.
LANGS = ("ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne", "id")
# What detection may return (a few more, answered with the English phrases).
SUPPORTED = (*LANGS, "th", "fr", "de")
_DETECTABLE = ("ja", "en", "zh", "ko", "vi", "pt", "es", "tl", "ne", "id", "th", "fr", "de")

LANG_NAMES = {
    "ja": "日本語",
    "ja-easy": "やさしい日本語",
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
    "es": "Español",
    "tl": "Tagalog",
    "ne": "नेपाली",
    "id": "Bahasa Indonesia",
}
# the language's name in English, for prompts and column headers ("Question (English)")
ENGLISH_NAMES = {
    "ja": "Japanese",
    "ja-easy": "Easy Japanese (やさしい日本語: short sentences, simple words, furigana-free)",
    "en": "English",
    "zh-Hans": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "ko": "Korean",
    "vi": "Vietnamese",
    "pt": "Portuguese",
    "es": "Spanish",
    "tl": "Tagalog",
    "ne": "Nepali",
    "id": "Indonesian",
    "th": "Thai",
    "fr": "French",
    "de": "German",
}

_ALIASES = {
    "zh": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans-cn": "zh-Hans",
    "cmn": "zh-Hans",
    "chs": "zh-Hans",
    "zh-hant": "zh-Hant",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "zh-hant-tw": "zh-Hant",
    "zh-hant-hk": "zh-Hant",
    "cht": "zh-Hant",
    "fil": "tl",
    "ja-easy": "ja-easy",
    "easy-ja": "ja-easy",
    "ja-simple": "ja-easy",
    "ja-yasashii": "ja-easy",
    "yasashii": "ja-easy",
    "easy-japanese": "ja-easy",
    "やさしい日本語": "ja-easy",
    "やさしいにほんご": "ja-easy",
    "日本語": "ja",
    "english": "en",
    "英語": "en",
    "中国語": "zh-Hans",
    "中国語(簡体字)": "zh-Hans",
    "簡体字": "zh-Hans",
    "中国語(繁体字)": "zh-Hant",
    "繁体字": "zh-Hant",
    "韓国語": "ko",
    "韓国・朝鮮語": "ko",
    "ベトナム語": "vi",
    "ポルトガル語": "pt",
    "スペイン語": "es",
    "タガログ語": "tl",
    "フィリピノ語": "tl",
    "ネパール語": "ne",
    "chinese": "zh-Hans",
    "korean": "ko",
    "vietnamese": "vi",
    "portuguese": "pt",
    "spanish": "es",
    "tagalog": "tl",
    "filipino": "tl",
    "nepali": "ne",
}
# a language's own name ("Tiếng Việt", "한국어", "Português") names it too
_ALIASES.update({name.lower().replace(" ", ""): code for code, name in LANG_NAMES.items()})
_ALIASES.update({n.lower().replace(" ", ""): c for c, n in ENGLISH_NAMES.items() if c != "ja-easy"})
_ALIASES["easyjapanese"] = "ja-easy"
_CANON = {c.lower(): c for c in SUPPORTED}


def normalise_lang(code: str | None, *, strict: bool = True) -> str | None:
    """The kit's code for a language tag, or ``None`` for no tag (detect it).

    ``zh``/``zh-CN`` → ``zh-Hans``, ``zh-TW``/``zh-HK`` → ``zh-Hant``, ``pt-BR`` → ``pt``,
    ``fil`` → ``tl``, ``easy-ja``/``やさしい日本語`` → ``ja-easy``; case and ``_`` do not
    matter. An unknown tag raises :class:`~kit.errors.InputError` (``strict``) or gives
    ``None``.
    """
    if code is None:
        return None
    raw = code.strip()
    if not raw:
        return None
    key = raw.lower().replace("_", "-").replace(" ", "").replace("（", "(").replace("）", ")")
    if key in _ALIASES:
        return _ALIASES[key]
    if key in _CANON:
        return _CANON[key]
    parts = key.split("-")
    if parts[0] == "zh":
        return "zh-Hant" if any(p in ("hant", "tw", "hk", "mo") for p in parts[1:]) else "zh-Hans"
    if parts[0] in _CANON and parts[0] != "ja":
        return _CANON[parts[0]]
    if parts[0] == "ja" and all(p in ("jp", "jpn") for p in parts[1:]):
        return "ja"
    if strict:
        raise InputError(
            f"unknown language {code!r}; use one of: {', '.join(LANGS)} (or leave it out)"
        )
    return None


_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_OTHER_SCRIPTS = re.compile(
    r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f\u3400-\u9fff\uf900-\ufaff"
    r"\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\u0900-\u097f\u0e00-\u0e7f]"
)
# a word of two or more Latin letters (accented ones and Vietnamese included)
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]{2,}")
# letters only Vietnamese writes: ơ ư ă đ and the stacked tone marks (ế, ữ, ạ …)
_VIETNAMESE = re.compile(r"[ơưăđƠƯĂĐ\u1ea0-\u1ef9]")
# a word made only of Japanese syllables as residents romanise them (juminhyo, sodai,
# gomi, maina kaado, zairyu): such text says nothing about its writer's language
_ROMAJI = re.compile(
    r"(?:(?:(?:[kgsztdnhbpmrfjv]y?|sh|ch|ts|w|y)?[aiueoāīūēō])|n|([kstpgdbc])(?=\1)|t(?=ch))+"
)
# Chinese words and forms that a text of kanji alone does not use in Japanese
# (characters Japanese cannot write at all are found by encoding, see _han)
_ZH_WORDS = re.compile(r"[的呢吧嗎麼這們誰您怎哪我你]|請問|请问|可以|沒有|甚麼|什麼")

JAPANESE = frozenset({"ja", "ja-easy"})
CHINESE = frozenset({"zh-Hans", "zh-Hant"})
LATIN_SCRIPT = frozenset({"en", "vi", "pt", "es", "tl", "id", "fr", "de"})
ANY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Detection:
    """What a text tells of its language.

    ``lang`` is the best guess; ``could_be`` the languages the text may be written in
    (empty: any, the text says too little); ``why`` names the rule that decided.
    """

    lang: str
    could_be: frozenset[str]
    why: str

    @property
    def confident(self) -> bool:
        """The text is certainly in one language (its variants aside: ja / ja-easy,
        zh-Hans / zh-Hant)."""
        return bool(self.could_be) and len({_family(c) for c in self.could_be}) == 1


_MACRONS = str.maketrans(
    {
        "ā": "aa",
        "ī": "ii",
        "ū": "uu",
        "ē": "ee",
        "ō": "ou",
        "â": "aa",
        "î": "ii",
        "û": "uu",
        "ê": "ee",
        "ô": "ou",
    }
)


def romaji_kana(text: str) -> str | None:
    """A question typed in romanised Japanese ("sodai gomi no dashikata", "jūminhyō"),
    written in hiragana (jaconv), so that the Japanese documents can be searched with it;
    None when the text is not romaji through and through (a word of English in it)."""
    t = unicodedata.normalize("NFC", text).lower().translate(_MACRONS)
    words = _LATIN_WORD.findall(t)
    if not words or re.search(r"[^\x00-\x7f]", t):
        return None
    if not all(_ROMAJI.fullmatch(w) for w in words):
        return None
    import jaconv

    kana = jaconv.alphabet2kana(t)
    return kana if re.search(r"[\u3041-\u3096]", kana) else None


def _family(lang: str) -> str:
    return "zh" if lang.startswith("zh") else base_lang(lang)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(_DETECTABLE))


@lru_cache(maxsize=8192)
def _writable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def detect(text: str, default: str = "ja") -> Detection:
    """The language of ``text`` and how sure that is (see :class:`Detection`).

    Confident: kana (Japanese, even with an English word: 「TVを捨てたい」), Hangul
    (Korean), Devanagari (Nepali), Thai, Vietnamese's own letters, Chinese written with
    characters or words Japanese does not use, and a Latin-script text of two or more
    words that py3langid scores at least 0.9 (0.7 from three words). A Latin-script
    sentence quoting a Japanese term ("How do I get a 住民票?") is judged on its Latin
    words. Not confident: kanji alone (Japanese or Chinese), and Latin text py3langid
    is unsure of (one of the Latin-script languages). Anything: an empty text, numbers,
    emoji, a single Latin word (OK, TV, sofa) and romanised Japanese (juminhyo, sodai gomi).
    """
    t = text.strip()
    if not t:
        return Detection(default, ANY, "empty")
    words = _LATIN_WORD.findall(t)
    letters = sum(len(w) for w in words)
    others = len(_OTHER_SCRIPTS.findall(t))
    if others and (len(words) < 3 or letters < 2 * others):
        return _by_script(t, bool(words))
    if others:  # a sentence in a Latin-script language around a quoted term
        t = " ".join(words)
    return _latin(t, words, default)


def _by_script(t: str, has_latin: bool) -> Detection:
    if _KANA.search(t):
        return Detection("ja", JAPANESE, "kana")
    if _HANGUL.search(t):
        return Detection("ko", frozenset({"ko"}), "hangul")
    if _DEVANAGARI.search(t):
        return Detection("ne", frozenset({"ne"}), "devanagari")
    if _THAI.search(t):
        return Detection("th", frozenset({"th"}), "thai")
    return _han(t, has_latin)


def _han(t: str, has_latin: bool) -> Detection:
    """Kanji / hanzi without kana: Chinese when it has what Japanese does not write."""
    han = _HAN.findall(t)[:400]
    chinese = len(_ZH_WORDS.findall(t)) + sum(not _writable(c, "cp932") for c in han)
    if chinese:
        # simplified forms are in GB 2312 and not in Big5, traditional ones the reverse
        simp = sum(_writable(c, "gb2312") and not _writable(c, "big5") for c in han)
        trad = sum(_writable(c, "big5") and not _writable(c, "gb2312") for c in han)
        if simp and not trad:
            return Detection("zh-Hans", frozenset({"zh-Hans"}), "simplified hanzi")
        if trad and not simp:
            return Detection("zh-Hant", frozenset({"zh-Hant"}), "traditional hanzi")
        return Detection("zh-Hant" if trad > simp else "zh-Hans", CHINESE, "hanzi")
    # a term both languages write (住民票): Japanese unless it is long, as Chinese
    # sentences are and Japanese terms are not; forms only Japanese uses (険, 込, 様) say
    # Japanese whatever the length
    japanese_forms = any(not _writable(c, "gb2312") and not _writable(c, "big5") for c in han)
    guess = "ja" if japanese_forms or len(han) <= 8 else "zh-Hans"
    if has_latin:  # 「住民票 where」: a term and a word of something else
        return Detection(guess, ANY, "kanji and latin")
    return Detection(guess, JAPANESE | CHINESE, "kanji")


def _latin(t: str, words: list[str], default: str) -> Detection:
    if _VIETNAMESE.search(t):
        return Detection("vi", frozenset({"vi"}), "vietnamese letters")
    if not words:
        return Detection(default, ANY, "no words")
    if all(_ROMAJI.fullmatch(w.lower()) for w in words):
        return Detection("en", ANY, "romaji")
    lang, prob = _identifier().classify(t)
    lang = str(normalise_lang(str(lang), strict=False) or "en")
    if len(words) < 2:
        return Detection(lang if prob >= 0.5 else "en", ANY, "one word")
    if prob >= 0.9 or (prob >= 0.7 and len(words) >= 3):
        return Detection(lang, frozenset({lang}), "langid")
    return Detection(lang if prob >= 0.5 else "en", LATIN_SCRIPT, "langid unsure")


def detect_language(text: str, default: str = "ja") -> str:
    """A language code from ``SUPPORTED`` (``zh-Hans`` / ``zh-Hant`` for Chinese): the
    best guess of :func:`detect`, ``default`` for a text without letters."""
    return detect(text, default).lang


def answer_language(text: str, preferred: str | None = None) -> str:
    """The language to answer ``text`` in when the resident's widget is set to
    ``preferred`` (any accepted spelling; ``None``: not known).

    The question's own language wins when :func:`detect` is sure of it: an English
    question in a widget set to 日本語 is answered in English, 「粗大ごみはどうやって出せば
    いい？」 in a widget set to English in Japanese. ``preferred`` is the prior for the
    rest: it wins whenever the text could be written in it (やさしい日本語 for Japanese
    text, 繁體 or 简体 for Chinese without either's own forms, Japanese or Chinese for
    kanji alone) or in anything (``OK``, *juminhyo*, a number); otherwise the best guess
    does (kanji alone in an English widget: Japanese).
    """
    pref = normalise_lang(preferred, strict=False)
    found = detect(text, default=pref or "ja")
    if pref is None:
        return found.lang
    if not found.could_be or pref in found.could_be:
        return pref
    return found.lang


def base_lang(lang: str) -> str:
    return lang.split("-")[0].lower()


def is_japanese(lang: str) -> bool:
    """Plain Japanese: the official answer needs no note (やさしい日本語 gets one)."""
    return lang == "ja"


# Shown above the Japanese official answer when the resident wrote in another
# language (or asked for やさしい日本語) and no translation of the answer exists.
JAPANESE_ONLY_NOTE = {
    "ja-easy": "町の 答えは むずかしい 日本語だけです。わからない ときは、"
    "下の 電話番号に 電話して ください。",
    "en": "This is the town's official answer, available in Japanese only. "
    "For help in your language, please call the office below.",
    "zh-Hans": "以下是本町的官方回答，目前只有日文版本。如需帮助，请致电下方窗口。",
    "zh-Hant": "以下是本町的官方回答，目前只有日文版本。如需協助，請致電下方窗口。",
    "ko": "아래는 마을의 공식 답변이며 일본어로만 제공됩니다. 도움이 필요하시면 아래 창구로 전화해 주세요.",
    "vi": "Đây là câu trả lời chính thức của thị trấn, chỉ có bằng tiếng Nhật. "
    "Nếu cần hỗ trợ, vui lòng gọi đến bộ phận bên dưới.",
    "pt": "Esta é a resposta oficial da cidade, disponível somente em japonês. "
    "Para ajuda, ligue para o setor abaixo.",
    "es": "Esta es la respuesta oficial del municipio, disponible solo en japonés. "
    "Para recibir ayuda, llame a la oficina indicada abajo.",
    "tl": "Ito ang opisyal na sagot ng bayan, sa wikang Hapon lamang. "
    "Para sa tulong, tumawag sa tanggapan sa ibaba.",
    "ne": "यो नगरको आधिकारिक उत्तर हो, जापानी भाषामा मात्र उपलब्ध छ। "
    "सहयोगका लागि तलको कार्यालयमा फोन गर्नुहोस्।",
    "id": "Ini jawaban resmi kota, hanya tersedia dalam bahasa Jepang. "
    "Untuk bantuan, silakan telepon kantor di bawah.",
}

# Shown with a translated official answer: the Japanese original is one click away.
TRANSLATED_NOTE = {
    "ja-easy": "町の 答えを やさしい 日本語に しました。元の 答えも 見る ことが できます。",
    "en": "Translation of the town's official answer. The Japanese original is available.",
    "zh-Hans": "本回答译自本町的官方日文回答，可查看日文原文。",
    "zh-Hant": "本回答譯自本町的官方日文回答，可查看日文原文。",
    "ko": "마을의 공식 답변을 번역한 것입니다. 일본어 원문도 볼 수 있습니다.",
    "vi": "Đây là bản dịch câu trả lời chính thức của thị trấn. Có thể xem bản gốc tiếng Nhật.",
    "pt": "Tradução da resposta oficial da cidade. O original em japonês está disponível.",
    "es": "Traducción de la respuesta oficial del municipio. El original en japonés está "
    "disponible.",
    "tl": "Salin ito ng opisyal na sagot ng bayan. Makikita rin ang orihinal sa wikang Hapon.",
    "ne": "यो नगरको आधिकारिक उत्तरको अनुवाद हो। जापानी मूल पाठ पनि हेर्न सकिन्छ।",
    "id": "Terjemahan jawaban resmi kota. Teks asli dalam bahasa Jepang tersedia.",
}

# Instead of TRANSLATED_NOTE when the entry's translation was made by machine
# (``madoguchi translate``) and town staff have not checked it yet.
MACHINE_TRANSLATED_NOTE = {
    "ja-easy": "町の 答えを 機械（きかい）で やさしい 日本語に しました。まだ 町の 人が "
    "確かめて いません。元の 答えも 見る ことが できます。",
    "en": "Machine translation of the town's official answer, not yet checked by town staff. "
    "The Japanese original is available.",
    "zh-Hans": "本回答由机器翻译自本町的官方日文回答，尚未经本町工作人员确认，可查看日文原文。",
    "zh-Hant": "本回答由機器翻譯自本町的官方日文回答，尚未經本町工作人員確認，可查看日文原文。",
    "ko": "마을의 공식 답변을 기계 번역한 것으로, 아직 마을 직원이 확인하지 않았습니다. "
    "일본어 원문도 볼 수 있습니다.",
    "vi": "Đây là bản dịch máy câu trả lời chính thức của thị trấn, chưa được nhân viên "
    "kiểm tra. Có thể xem bản gốc tiếng Nhật.",
    "pt": "Tradução automática da resposta oficial da cidade, ainda não revisada pelos "
    "funcionários. O original em japonês está disponível.",
    "es": "Traducción automática de la respuesta oficial del municipio, aún no revisada por "
    "el personal. El original en japonés está disponible.",
    "tl": "Salin ng makina ang opisyal na sagot ng bayan at hindi pa ito nasusuri ng kawani. "
    "Makikita rin ang orihinal sa wikang Hapon.",
    "ne": "यो नगरको आधिकारिक उत्तरको मेसिन अनुवाद हो, नगरका कर्मचारीले अझै जाँच गरेका छैनन्। "
    "जापानी मूल पाठ पनि हेर्न सकिन्छ।",
    "id": "Terjemahan mesin dari jawaban resmi kota, belum diperiksa oleh petugas. "
    "Teks asli dalam bahasa Jepang tersedia.",
}

# Shown with an answer composed by the LLM from the cited passages.
GENERATED_NOTE = {
    "ja": "この回答は町の資料をもとに AI が作成しました。正確な内容は出典をご確認ください。",
    "ja-easy": "この 答えは、町の 資料を 見て AI が 作りました。下の リンクで 確かめて ください。",
    "en": "This answer was written by AI from the town's documents. "
    "Please check the linked sources.",
    "zh-Hans": "本回答由 AI 根据本町资料生成，请以所附来源为准。",
    "zh-Hant": "本回答由 AI 根據本町資料生成，請以所附來源為準。",
    "ko": "이 답변은 마을 자료를 바탕으로 AI가 작성했습니다. 첨부된 출처를 확인해 주세요.",
    "vi": "Câu trả lời này do AI soạn từ tài liệu của thị trấn. Vui lòng kiểm tra nguồn kèm theo.",
    "pt": "Esta resposta foi escrita por IA a partir dos documentos da cidade. "
    "Confira as fontes indicadas.",
    "es": "Esta respuesta fue redactada por IA a partir de los documentos del municipio. "
    "Consulte las fuentes indicadas.",
    "tl": "Isinulat ng AI ang sagot na ito mula sa mga dokumento ng bayan. "
    "Pakitingnan ang mga nakalakip na sanggunian.",
    "ne": "यो उत्तर नगरका कागजातका आधारमा AI ले लेखेको हो। कृपया संलग्न स्रोत हेर्नुहोस्।",
    "id": "Jawaban ini ditulis oleh AI dari dokumen kota. Silakan periksa sumber yang dilampirkan.",
}

# "I could not find this — please contact ..." ({contact}: see contact_text).
REFUSAL = {
    "ja": "申し訳ありません。お尋ねの内容について、町の資料から確かな回答を見つけられませんでした。"
    "{contact}にお問い合わせください。",
    "ja-easy": "ごめんなさい。町の 資料に 答えが ありませんでした。{contact}に 聞いて ください。",
    "en": "Sorry, I could not find a reliable answer to this in the town's documents. "
    "Please contact {contact}.",
    "zh-Hans": "抱歉，在本町的资料中没有找到可靠的回答。请联系{contact}。",
    "zh-Hant": "抱歉，在本町的資料中沒有找到可靠的回答。請聯繫{contact}。",
    "ko": "죄송합니다. 마을 자료에서 확실한 답변을 찾지 못했습니다. {contact}에 문의해 주세요.",
    "vi": "Xin lỗi, tôi không tìm thấy câu trả lời đáng tin cậy trong tài liệu của thị trấn. "
    "Vui lòng liên hệ {contact}.",
    "pt": "Desculpe, não encontrei uma resposta confiável nos documentos da cidade. "
    "Entre em contato com {contact}.",
    "es": "Lo siento, no encontré una respuesta fiable en los documentos del municipio. "
    "Comuníquese con {contact}.",
    "tl": "Paumanhin, wala akong nahanap na maaasahang sagot sa mga dokumento ng bayan. "
    "Makipag-ugnayan sa {contact}.",
    "ne": "माफ गर्नुहोस्, नगरका कागजातहरूमा भरपर्दो उत्तर भेटिएन। कृपया {contact} मा सम्पर्क गर्नुहोस्।",
    "id": "Maaf, saya tidak menemukan jawaban yang dapat dipercaya di dokumen kota. "
    "Silakan hubungi {contact}.",
}

# the word before a phone number in a sentence of that language
TEL = {
    "ja": "電話",
    "ja-easy": "電話",
    "zh-Hans": "电话",
    "zh-Hant": "電話",
    "ko": "전화",
    "en": "tel.",
    "vi": "ĐT",
    "pt": "tel.",
    "es": "tel.",
    "tl": "tel.",
    "ne": "फोन",
    "id": "telp.",
}
# the phone number after a department's name, in a sentence of that language
PHONE_LABEL = {
    code: ("（{tel} {{phone}}）" if _family(code) in ("ja", "zh") else " ({tel} {{phone}})").format(
        tel=tel
    )
    for code, tel in TEL.items()
}

# the contact line under an answer: "{contact}" is the department and its phone
CONTACT = {
    "ja": "お問い合わせ：{contact}",
    "ja-easy": "聞きたい ときは：{contact}",
    "en": "Contact: {contact}",
    "zh-Hans": "咨询窗口：{contact}",
    "zh-Hant": "諮詢窗口：{contact}",
    "ko": "문의처: {contact}",
    "vi": "Liên hệ: {contact}",
    "pt": "Contato: {contact}",
    "es": "Contacto: {contact}",
    "tl": "Makipag-ugnayan sa: {contact}",
    "ne": "सम्पर्क: {contact}",
    "id": "Kontak: {contact}",
}

FOLLOW_UP = {
    "ja": "どちらについてお知りになりたいですか？",
    "ja-easy": "どちらの ことを 知りたいですか？",
    "en": "Which of these do you mean?",
    "zh-Hans": "您想了解的是哪一项？",
    "zh-Hant": "您想了解的是哪一項？",
    "ko": "어느 쪽에 대해 알고 싶으신가요?",
    "vi": "Bạn muốn hỏi về mục nào?",
    "pt": "Sobre qual destes você quer saber?",
    "es": "¿Sobre cuál de estos quiere saber?",
    "tl": "Alin sa mga ito ang ibig mong sabihin?",
    "ne": "तपाईं यीमध्ये कुन विषयबारे जान्न चाहनुहुन्छ?",
    "id": "Yang mana yang Anda maksud?",
}

DEPARTMENT_PREFIX = {"ja": "担当", "en": "Contact"}


def phrase(table: dict[str, str], lang: str) -> str:
    """The phrase for ``lang`` (any accepted spelling), falling back to its base
    language, then English, then Japanese."""
    if lang in table:
        return table[lang]
    canon = normalise_lang(lang, strict=False)
    if canon and canon in table:
        return table[canon]
    if canon == "ja-easy" or base_lang(lang) == "ja":
        easy = table.get("ja-easy") if canon == "ja-easy" else None
        return easy or table.get("ja") or table.get("en", "")
    return table.get("en") or table["ja"]


def phone_text(lang: str, phone: str | None) -> str:
    """The phone label for a sentence in ``lang`` ("（電話 …）", " (tel. …)"), or ""."""
    if not phone:
        return ""
    return phrase(PHONE_LABEL, lang).format(phone=phone)


def contact_text(
    lang: str, dept: str | None, translated: str | None = None, phone: str | None = None
) -> str:
    """Whom to call, as a sentence in ``lang`` names it: the department's Japanese name
    (what the resident says or shows at the counter), then its name in their language
    and the phone in one parenthesis: 「総合窓口 (General information counter, tel.
    01234-5-1101)」, 「税務課（税务科，电话 01234-5-1102）」, 「住民課（電話 01234-5-1101）」.
    "" when neither the department nor the phone is known."""
    wide = _family(normalise_lang(lang, strict=False) or "en") in ("ja", "zh")
    tel = f"{phrase(TEL, lang)} {phone}" if phone else ""
    inner = [x for x in (translated if translated != dept else None, tel) if x]
    if not dept:
        return tel
    if not inner:
        return dept
    if wide:
        sep = "、" if base_lang(lang) == "ja" else "，"
        return f"{dept}（{sep.join(inner)}）"
    return f"{dept} ({', '.join(inner)})"


def contact_line(
    lang: str, dept: str | None, phone: str | None, translated: str | None = None
) -> str:
    """ "Contact: 住民課 (Residents Division, tel. 01234-5-1101)" in the resident's
    language, or "" when nothing is known."""
    contact = contact_text(lang, dept, translated, phone)
    return phrase(CONTACT, lang).format(contact=contact) if contact else ""
