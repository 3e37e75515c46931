"""Language of a resident's question, the codes the kit accepts, and its fixed phrases.

Detection is offline (py3langid) with rules it gets wrong on its own for a
Japanese town: any kana means Japanese, and a short all-kanji question
(住民票, 粗大ゴミ) is Japanese unless it uses Chinese-only function words;
Hangul is Korean and Devanagari is Nepali.

Codes are the widget's (BCP 47 style): ``ja, en, zh-Hans, zh-Hant, ko, vi, pt,
es, tl, ne`` and ``ja-easy`` for やさしい日本語. :func:`normalise_lang` maps the
spellings residents' browsers and towns' CSV headers use (``zh``, ``zh-CN``,
``zh_TW``, ``pt-BR``, ``fil``, ``easy-ja`` …) onto them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from madoguchi.kit.errors import InputError

# Languages the kit answers in (fixed phrases, FAQ translation columns), widget codes.
LANGS = ("ja", "ja-easy", "en", "zh-Hans", "zh-Hant", "ko", "vi", "pt", "es", "tl", "ne")
# What detection may return (a few more, answered with the English phrases).
SUPPORTED = (*LANGS, "id", "th", "fr", "de")
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
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
# Function words and simplified-only forms that Japanese text does not use.
_ZH_ONLY = re.compile(
    r"[的了吗么们这那怎哪谁您请问给说还没对让把被从为会与我你他她吧呢啊扔发证办书关车门开长见电话时间现应该样么]"
)
_TRAD = re.compile(r"[們這麼會說請問還沒對讓從為與區號碼單證費嗎]")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(_DETECTABLE))


def detect_language(text: str, default: str = "ja") -> str:
    """A language code from ``SUPPORTED`` (``zh-Hans`` / ``zh-Hant`` for Chinese)."""
    t = text.strip()
    if not t:
        return default
    if _KANA.search(t):
        return "ja"
    if _HANGUL.search(t):
        return "ko"
    if _DEVANAGARI.search(t):
        return "ne"
    han = _HAN.findall(t)
    if han:
        if len(han) <= 8 and not _ZH_ONLY.search(t):
            return "ja"
        return "zh-Hant" if _TRAD.search(t) else "zh-Hans"
    letters = sum(ch.isalpha() for ch in t)
    if letters < 2:
        return default
    lang, prob = _identifier().classify(t)
    if prob < 0.5 and len(t) < 25:
        return "en"
    return str(normalise_lang(str(lang), strict=False) or "en")


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
}

# "I could not find this — please contact ..." ({dept} and {phone} filled in).
REFUSAL = {
    "ja": "申し訳ありません。お尋ねの内容について、町の資料から確かな回答を見つけられませんでした。"
    "{dept}{phone}にお問い合わせください。",
    "ja-easy": "ごめんなさい。町の 資料に 答えが ありませんでした。"
    "{dept}{phone}に 聞いて ください。",
    "en": "Sorry, I could not find a reliable answer to this in the town's documents. "
    "Please contact {dept}{phone}.",
    "zh-Hans": "抱歉，在本町的资料中没有找到可靠的回答。请联系{dept}{phone}。",
    "zh-Hant": "抱歉，在本町的資料中沒有找到可靠的回答。請聯繫{dept}{phone}。",
    "ko": "죄송합니다. 마을 자료에서 확실한 답변을 찾지 못했습니다. {dept}{phone}에 문의해 주세요.",
    "vi": "Xin lỗi, tôi không tìm thấy câu trả lời đáng tin cậy trong tài liệu của thị trấn. "
    "Vui lòng liên hệ {dept}{phone}.",
    "pt": "Desculpe, não encontrei uma resposta confiável nos documentos da cidade. "
    "Entre em contato com {dept}{phone}.",
    "es": "Lo siento, no encontré una respuesta fiable en los documentos del municipio. "
    "Comuníquese con {dept}{phone}.",
    "tl": "Paumanhin, wala akong nahanap na maaasahang sagot sa mga dokumento ng bayan. "
    "Makipag-ugnayan sa {dept}{phone}.",
    "ne": "माफ गर्नुहोस्, नगरका कागजातहरूमा भरपर्दो उत्तर भेटिएन। कृपया {dept}{phone} मा सम्पर्क गर्नुहोस्।",
}

# the phone number after a department's name, in a sentence of that language
PHONE_LABEL = {
    "ja": "（電話 {phone}）",
    "ja-easy": "（電話 {phone}）",
    "zh-Hans": "（电话 {phone}）",
    "zh-Hant": "（電話 {phone}）",
    "ko": " (전화 {phone})",
    "en": " (tel. {phone})",
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


def contact_line(lang: str, dept: str | None, phone: str | None) -> str:
    """ "Contact: 住民課 01234-5-1101" in the resident's language, or "" when nothing is known."""
    contact = " ".join(x for x in (dept, phone) if x)
    return phrase(CONTACT, lang).format(contact=contact) if contact else ""
