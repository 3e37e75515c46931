"""Language of a resident's question, and the kit's fixed phrases per language.

Detection is offline (py3langid) with two rules it gets wrong on its own for a
Japanese town: any kana means Japanese, and a short all-kanji question
(住民票, 粗大ゴミ) is Japanese unless it uses Chinese-only function words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SUPPORTED = ("ja", "en", "zh", "ko", "vi", "pt", "es", "tl", "ne", "id", "th", "fr", "de")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
# Function words and simplified-only forms that Japanese text does not use.
_ZH_ONLY = re.compile(
    r"[的了吗么们这那怎哪谁您请问给说还没对让把被从为会与我你他她吧呢啊扔发证办书关车门开长见电话时间现应该样么]"
)
_TRAD = re.compile(r"[們這麼會說請問還沒對讓從為與區號碼單證費]")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True, langs=list(SUPPORTED))


def detect_language(text: str, default: str = "ja") -> str:
    """A language code from ``SUPPORTED`` (``zh-Hant`` for traditional Chinese)."""
    t = text.strip()
    if not t:
        return default
    if _KANA.search(t):
        return "ja"
    if _HANGUL.search(t):
        return "ko"
    han = _HAN.findall(t)
    if han:
        if len(han) <= 8 and not _ZH_ONLY.search(t):
            return "ja"
        return "zh-Hant" if _TRAD.search(t) else "zh"
    letters = sum(ch.isalpha() for ch in t)
    if letters < 2:
        return default
    lang, prob = _identifier().classify(t)
    if prob < 0.5 and len(t) < 25:
        return "en"
    return str(lang)


def base_lang(lang: str) -> str:
    return lang.split("-")[0].lower()


# Shown above the Japanese official answer when the resident wrote in another
# language and no translation of the answer exists.
JAPANESE_ONLY_NOTE = {
    "en": "This is the town's official answer, available in Japanese only. "
    "For help in your language, please call the office below.",
    "zh": "以下是本町的官方回答，目前只有日文版本。如需帮助，请致电下方窗口。",
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

# "I could not find this — please contact ..." ({dept} and {phone} filled in).
REFUSAL = {
    "ja": "申し訳ありません。お尋ねの内容について、町の資料から確かな回答を見つけられませんでした。"
    "{dept}{phone}にお問い合わせください。",
    "en": "Sorry, I could not find a reliable answer to this in the town's documents. "
    "Please contact {dept}{phone}.",
    "zh": "抱歉，在本町的资料中没有找到可靠的回答。请联系{dept}{phone}。",
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

PHONE_LABEL = {"ja": "（電話 {phone}）", "zh": "（电话 {phone}）", "ko": " (전화 {phone})"}

FOLLOW_UP = {
    "ja": "どちらについてお知りになりたいですか？",
    "en": "Which of these do you mean?",
    "zh": "您想了解的是哪一项？",
    "zh-Hant": "您想了解的是哪一項？",
    "ko": "어느 쪽에 대해 알고 싶으신가요?",
    "vi": "Bạn muốn hỏi về mục nào?",
    "pt": "Sobre qual destes você quer saber?",
    "es": "¿Sobre cuál de estos quiere saber?",
}

DEPARTMENT_PREFIX = {"ja": "担当", "en": "Contact"}


def phrase(table: dict[str, str], lang: str) -> str:
    """The phrase for ``lang``, falling back to its base language, then English or Japanese."""
    if lang in table:
        return table[lang]
    base = base_lang(lang)
    if base in table:
        return table[base]
    return table.get("en") or table["ja"]
