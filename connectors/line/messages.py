"""An answer as LINE messages, within the platform's limits.

A reply holds at most ``MAX_MESSAGES`` (5) messages; a text message at most
``MAX_TEXT`` (5,000) characters; quick replies attach to the last message, at most
``MAX_QUICK`` (13) buttons with labels of at most ``MAX_LABEL`` (20) characters, and
a button's text or postback data at most 300. The platform counts characters as
UTF-16 code units (an emoji may be two), so everything here is measured that way.

An answer becomes: its text (with whom to call when the text does not already give
the phone), its sources as titled links, and, when the kit asks which of two topics
is meant (``follow_up``), that question with one quick-reply button per topic:
tapping one sends it as the resident's next message, answered in the same
conversation. 👍/👎 are postback buttons carrying the answer's id
(``feedback_data``); a refusal also offers the button 「職員にメッセージを送る」 (when
the answer carries a hand-off offer) and the town's suggested questions.

The fixed texts of the channel (greeting, "send your question as text", thanks for
feedback, "too many messages") are written here in the widget's twelve languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from madoguchi.kit.lang import CONTACT, TEL, is_japanese, phone_text, phrase

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK = 13
MAX_LABEL = 20
MAX_ACTION_TEXT = 300
MAX_DATA = 300

SOURCES = {
    "ja": "出典",
    "ja-easy": "もとの ページ",
    "en": "Sources",
    "zh-Hans": "出处",
    "zh-Hant": "出處",
    "ko": "출처",
    "vi": "Nguồn",
    "pt": "Fontes",
    "es": "Fuentes",
    "tl": "Pinagmulan",
    "ne": "स्रोत",
    "id": "Sumber",
}
RELATED = {
    "ja": "参考になりそうなページ",
    "ja-easy": "読むと わかるかも しれない ページ",
    "en": "These pages may help",
    "zh-Hans": "以下页面或许有帮助",
    "zh-Hant": "以下頁面或許有幫助",
    "ko": "참고가 될 만한 페이지",
    "vi": "Các trang này có thể hữu ích",
    "pt": "Estas páginas podem ajudar",
    "es": "Estas páginas pueden ayudar",
    "tl": "Maaaring makatulong ang mga pahinang ito",
    "ne": "यी पृष्ठहरू उपयोगी हुन सक्छन्",
    "id": "Halaman ini mungkin membantu",
}
HELPFUL = {
    "ja": "👍 役に立った",
    "ja-easy": "👍 わかった",
    "en": "👍 Helpful",
    "zh-Hans": "👍 有帮助",
    "zh-Hant": "👍 有幫助",
    "ko": "👍 도움이 됐어요",
    "vi": "👍 Hữu ích",
    "pt": "👍 Ajudou",
    "es": "👍 Me ayudó",
    "tl": "👍 Nakatulong",
    "ne": "👍 उपयोगी",
    "id": "👍 Membantu",
}
NOT_HELPFUL = {
    "ja": "👎 役に立たなかった",
    "ja-easy": "👎 わからなかった",
    "en": "👎 Not helpful",
    "zh-Hans": "👎 没有帮助",
    "zh-Hant": "👎 沒有幫助",
    "ko": "👎 도움이 안 됐어요",
    "vi": "👎 Không hữu ích",
    "pt": "👎 Não ajudou",
    "es": "👎 No me ayudó",
    "tl": "👎 Hindi nakatulong",
    "ne": "👎 उपयोगी भएन",
    "id": "👎 Tidak membantu",
}
THANKS = {
    "ja": "ご意見ありがとうございます。回答の改善に使わせていただきます。",
    "ja-easy": "ありがとう ございます。 これからの 答えを よく するために 使います。",
    "en": "Thank you for your feedback. It helps us improve the answers.",
    "zh-Hans": "感谢您的反馈，我们会用它来改进回答。",
    "zh-Hant": "感謝您的回饋，我們會用它來改進回答。",
    "ko": "의견 감사합니다. 답변 개선에 활용하겠습니다.",
    "vi": "Cảm ơn ý kiến của bạn. Chúng tôi sẽ dùng nó để cải thiện câu trả lời.",
    "pt": "Obrigado pela sua opinião. Ela nos ajuda a melhorar as respostas.",
    "es": "Gracias por su opinión. Nos ayuda a mejorar las respuestas.",
    "tl": "Salamat sa iyong puna. Makakatulong ito para mapabuti ang mga sagot.",
    "ne": "तपाईंको प्रतिक्रियाका लागि धन्यवाद। यसले जवाफ सुधार्न मद्दत गर्छ।",
    "id": "Terima kasih atas masukan Anda. Ini membantu kami memperbaiki jawaban.",
}
TEXT_ONLY = {
    "ja": "スタンプ・画像・音声・位置情報にはお答えできません。ご質問を文字で送ってください（例：「粗大ごみの出し方は？」）。",
    "ja-easy": "スタンプや 写真には 答えられません。 聞きたい ことを 文字で 送って ください。",
    "en": "I can only answer questions sent as text, not stickers, pictures, voice or locations. Please type your question.",
    "zh-Hans": "无法回复贴图、图片、语音或位置信息。请用文字发送您的问题。",
    "zh-Hant": "無法回覆貼圖、圖片、語音或位置資訊。請用文字傳送您的問題。",
    "ko": "스티커, 사진, 음성, 위치 정보에는 답할 수 없습니다. 질문을 글자로 보내 주세요.",
    "vi": "Tôi chỉ trả lời được câu hỏi bằng chữ, không phải nhãn dán, hình ảnh, giọng nói hay vị trí. Hãy gõ câu hỏi của bạn.",
    "pt": "Só consigo responder perguntas escritas, não figurinhas, imagens, áudio ou localização. Escreva sua pergunta, por favor.",
    "es": "Solo puedo responder preguntas escritas, no stickers, imágenes, audio ni ubicaciones. Escriba su pregunta, por favor.",
    "tl": "Mga tanong na nakasulat lang ang masasagot ko, hindi sticker, larawan, boses o lokasyon. Pakisulat ang iyong tanong.",
    "ne": "स्टिकर, तस्बिर, आवाज वा स्थानको जवाफ दिन सकिँदैन। कृपया आफ्नो प्रश्न लेखेर पठाउनुहोस्।",
    "id": "Saya hanya bisa menjawab pertanyaan tertulis, bukan stiker, gambar, suara, atau lokasi. Silakan ketik pertanyaan Anda.",
}
GREETING = {
    "ja": "友だち追加ありがとうございます。{town}の手続きや暮らしについて、町の公開資料からお答えします。ご質問を文字で送ってください。個人情報は送らないでください。",
    "ja-easy": "友だちに なって くれて ありがとう ございます。 {town}の ことを 聞いて ください。 名前や 住所は 送らないで ください。",
    "en": "Thank you for adding us. I answer questions about {town}'s procedures and daily life from the town's public documents. Please type your question, without personal details.",
    "zh-Hans": "感谢添加好友。我会根据{town}的公开资料回答有关手续和生活的问题。请用文字发送问题，请勿发送个人信息。",
    "zh-Hant": "感謝加入好友。我會根據{town}的公開資料回答有關手續和生活的問題。請用文字傳送問題，請勿傳送個人資料。",
    "ko": "친구 추가 감사합니다. {town}의 공개 자료를 바탕으로 행정 절차와 생활에 관한 질문에 답합니다. 개인정보 없이 질문을 글자로 보내 주세요.",
    "vi": "Cảm ơn bạn đã kết bạn. Tôi trả lời câu hỏi về thủ tục và đời sống ở {town} dựa trên tài liệu công khai. Hãy gõ câu hỏi, không gửi thông tin cá nhân.",
    "pt": "Obrigado por nos adicionar. Respondo perguntas sobre trâmites e a vida em {town} com base nos documentos públicos. Escreva sua pergunta, sem dados pessoais.",
    "es": "Gracias por agregarnos. Respondo preguntas sobre trámites y la vida en {town} con los documentos públicos. Escriba su pregunta, sin datos personales.",
    "tl": "Salamat sa pag-add. Sinasagot ko ang mga tanong tungkol sa mga proseso at pamumuhay sa {town} mula sa mga pampublikong dokumento. Isulat ang tanong, walang personal na impormasyon.",
    "ne": "साथी थप्नुभएकोमा धन्यवाद। म {town} का सार्वजनिक कागजातबाट प्रक्रिया र दैनिक जीवनबारे प्रश्नको जवाफ दिन्छु। व्यक्तिगत विवरण बिना प्रश्न लेख्नुहोस्।",
    "id": "Terima kasih telah menambahkan kami. Saya menjawab pertanyaan tentang prosedur dan kehidupan di {town} dari dokumen publik. Ketik pertanyaan Anda, tanpa data pribadi.",
}
SLOW_DOWN = {
    "ja": "たくさんのご質問ありがとうございます。少し時間をおいてから、もう一度送ってください。",
    "ja-easy": "少し 待ってから、 もう一度 送って ください。",
    "en": "You have sent many messages. Please wait a little and send your question again.",
    "zh-Hans": "您发送的消息较多，请稍后再发送。",
    "zh-Hant": "您傳送的訊息較多，請稍後再傳送。",
    "ko": "메시지가 많습니다. 잠시 후 다시 보내 주세요.",
    "vi": "Bạn đã gửi nhiều tin nhắn. Vui lòng đợi một chút rồi gửi lại.",
    "pt": "Você enviou muitas mensagens. Aguarde um pouco e envie de novo.",
    "es": "Ha enviado muchos mensajes. Espere un poco y vuelva a enviarlo.",
    "tl": "Marami kang naipadalang mensahe. Maghintay sandali at ipadala muli.",
    "ne": "तपाईंले धेरै सन्देश पठाउनुभयो। केही समयपछि फेरि पठाउनुहोस्।",
    "id": "Anda mengirim banyak pesan. Tunggu sebentar lalu kirim lagi.",
}
UNAVAILABLE = {
    "ja": "申し訳ありません。ただいまお答えできません。時間をおいて送り直すか、役場へお電話ください。",
    "ja-easy": "ごめんなさい。 今は 答えられません。 あとで もう一度 送るか、 役場に 電話して ください。",
    "en": "Sorry, I cannot answer right now. Please try again later or call the town office.",
    "zh-Hans": "抱歉，现在无法回答。请稍后再试，或致电町政府。",
    "zh-Hant": "抱歉，現在無法回答。請稍後再試，或致電町公所。",
    "ko": "죄송합니다. 지금은 답할 수 없습니다. 나중에 다시 보내거나 사무소로 전화해 주세요.",
    "vi": "Xin lỗi, hiện tôi không trả lời được. Hãy thử lại sau hoặc gọi cho tòa thị chính.",
    "pt": "Desculpe, não consigo responder agora. Tente mais tarde ou ligue para a prefeitura.",
    "es": "Lo siento, ahora no puedo responder. Inténtelo más tarde o llame al ayuntamiento.",
    "tl": "Paumanhin, hindi ako makasagot ngayon. Subukang muli mamaya o tumawag sa town office.",
    "ne": "माफ गर्नुहोस्, अहिले जवाफ दिन सकिँदैन। पछि फेरि प्रयास गर्नुहोस् वा कार्यालयमा फोन गर्नुहोस्।",
    "id": "Maaf, saya tidak bisa menjawab sekarang. Coba lagi nanti atau hubungi kantor kota.",
}
TOO_LONG = {
    "ja": "ご質問が長すぎます。{limit}文字以内で、知りたいことを短く送ってください。",
    "ja-easy": "長すぎます。 {limit}文字までで 短く 送って ください。",
    "en": "Your question is too long. Please send it in at most {limit} characters.",
    "zh-Hans": "问题太长了。请在{limit}个字符以内简短发送。",
    "zh-Hant": "問題太長了。請在{limit}個字元以內簡短傳送。",
    "ko": "질문이 너무 깁니다. {limit}자 이내로 짧게 보내 주세요.",
    "vi": "Câu hỏi quá dài. Hãy gửi tối đa {limit} ký tự.",
    "pt": "A pergunta é longa demais. Envie no máximo {limit} caracteres.",
    "es": "La pregunta es demasiado larga. Envíela en {limit} caracteres como máximo.",
    "tl": "Masyadong mahaba ang tanong. Ipadala sa hindi hihigit sa {limit} na titik.",
    "ne": "प्रश्न धेरै लामो भयो। {limit} अक्षरभित्र छोटो गरी पठाउनुहोस्।",
    "id": "Pertanyaan terlalu panjang. Kirim paling banyak {limit} karakter.",
}


def units(text: str) -> int:
    """Length as the platform counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` UTF-16 units (with an ellipsis when cut)."""
    if units(text) <= limit:
        return text
    room = limit - units(ellipsis)
    out, used = [], 0
    for ch in text:
        n = units(ch)
        if used + n > room:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + ellipsis


def text_message(text: str) -> dict[str, Any]:
    return {"type": "text", "text": clip(text.strip() or "…", MAX_TEXT)}


def ask_button(label: str, text: str | None = None) -> dict[str, Any]:
    """A quick-reply button that sends ``text`` (default: the label) as the user's message."""
    return {
        "type": "action",
        "action": {
            "type": "message",
            "label": clip(label, MAX_LABEL),
            "text": clip(text or label, MAX_ACTION_TEXT),
        },
    }


def feedback_data(answer_id: str, helpful: bool) -> str:
    return urlencode({"fb": "1" if helpful else "0", "id": answer_id})


def parse_feedback(data: str) -> tuple[str, bool] | None:
    """(answer id, helpful) of a 👍/👎 postback, or None for any other data."""
    q = parse_qs(data, max_num_fields=4)
    fb, ids = q.get("fb", []), q.get("id", [])
    if len(fb) != 1 or len(ids) != 1 or fb[0] not in ("0", "1") or not 0 < len(ids[0]) <= 64:
        return None
    return ids[0], fb[0] == "1"


def feedback_buttons(answer_id: str, lang: str) -> list[dict[str, Any]]:
    out = []
    for helpful, table in ((True, HELPFUL), (False, NOT_HELPFUL)):
        label = clip(phrase(table, lang), MAX_LABEL)
        out.append(
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": label,
                    "data": feedback_data(answer_id, helpful),
                    "displayText": label,
                },
            }
        )
    return out


def with_quick_replies(
    messages: list[dict[str, Any]], buttons: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The messages (at most five), the buttons (at most 13, no repeated label) on the last."""
    messages = messages[:MAX_MESSAGES]
    items: list[dict[str, Any]] = []
    labels: set[str] = set()
    for b in buttons:
        label = b["action"]["label"]
        if label in labels:
            continue
        labels.add(label)
        items.append(b)
        if len(items) == MAX_QUICK:
            break
    if items and messages:
        messages[-1] = {**messages[-1], "quickReply": {"items": items}}
    return messages


def choices(follow_up: str | None) -> list[str]:
    """The topics a clarifying question offers (its lines starting with ・)."""
    if not follow_up:
        return []
    return [line[1:].strip() for line in follow_up.splitlines() if line.startswith("・")][
        :MAX_QUICK
    ]


def _sources(items: Sequence[dict[str, Any]], heading: str, limit: int) -> str | None:
    lines: list[str] = []
    seen: set[str] = set()
    for c in items:
        key = str(c.get("url") or c.get("source") or "")
        if not key or key in seen:
            continue
        seen.add(key)
        title = clip(str(c.get("title") or c.get("source") or ""), 100)
        lines.append(f"・{title}" + (f"\n{c['url']}" if c.get("url") else ""))
        if len(lines) >= limit:
            break
    return f"{heading}\n" + "\n".join(lines) if lines else None


def answer_messages(
    answer: dict[str, Any], suggestions: Sequence[str] = (), max_sources: int = 3
) -> list[dict[str, Any]]:
    """The reply to a question: the answer JSON of ``POST /api/v1/ask`` as LINE messages."""
    lang = str(answer.get("lang") or "ja")
    text = str(answer.get("answer") or "")
    phone = answer.get("phone")
    who = answer.get("department_label") or answer.get("department")
    if phone and phone not in text:
        text += "\n\n" + phrase(CONTACT, lang).format(
            contact=f"{who or ''}{phone_text(lang, phone)}".strip()
        )
    messages = [text_message(text)]
    refused = bool(answer.get("refused"))
    cited = answer.get("related") if refused else answer.get("citations")
    listing = _sources(cited or [], phrase(RELATED if refused else SOURCES, lang), max_sources)
    if listing and max_sources:
        messages.append(text_message(listing))
    topics = choices(answer.get("follow_up"))
    if answer.get("follow_up"):
        messages.append(text_message(str(answer["follow_up"])))
    buttons = [ask_button(t) for t in topics]
    if refused and answer.get("handoff"):  # the office can take a message (kit.handoff.offer)
        buttons.append(handoff_button(lang))
    if answer.get("answer_id"):
        buttons += feedback_buttons(str(answer["answer_id"]), lang)
    if refused:
        buttons += [ask_button(s) for s in suggestions]
    return with_quick_replies(messages, buttons)


def bilingual(table: dict[str, str], lang: str | None, **fields: str) -> str:
    """The Japanese text, then the user's language's when that is not Japanese."""
    ja = table["ja"].format(**fields)
    if lang == "ja-easy":
        return phrase(table, lang).format(**fields)
    if not lang or is_japanese(lang):
        return ja
    return f"{ja}\n\n{phrase(table, lang).format(**fields)}"


def notice(
    table: dict[str, str],
    lang: str | None,
    suggestions: Sequence[str] = (),
    **fields: str,
) -> list[dict[str, Any]]:
    """One of the channel's fixed texts, with the suggested questions as buttons."""
    return with_quick_replies(
        [text_message(bilingual(table, lang, **fields))], [ask_button(s) for s in suggestions]
    )


# ---------------------------------------------------------------------------- hand-off
# A resident asking for a person (「職員」「人と話したい」, "staff", "operator" ...) is
# answered without the kit: the department's office open now and its phone, or when it
# opens, with the button 「職員にメッセージを送る」 (also under a refusal). The button
# shows what is kept and for how long, with 同意して送る / やめる; consent opens a
# ticket in the town's inbox, whose staff reply is pushed back to the resident.

#: what a message asking for a person is: an optional lead-in, one of the words, an
#: optional request ending; the whole message, so 「職員採用試験はいつ？」 is a question
STAFF_WORDS = (
    # Japanese
    "職員", "担当者", "担当の人", "担当の方", "窓口の人", "窓口の方", "係の人", "係の方",
    "役場の人", "役場の方", "人間", "オペレーター", "有人対応", "有人", "人",
    # Chinese, Korean, Nepali
    "人工客服", "人工服务", "人工服務", "人工", "工作人员", "工作人員", "真人",
    "직원", "상담원", "사람", "कर्मचारी",
)  # fmt: skip
STAFF_LEADS = (
    "町の", "役場の", "人間の", "本物の", "窓口の",
    "转", "轉", "找", "我要", "我想找", "联系", "聯絡", "聯繫",
)  # fmt: skip
STAFF_ENDINGS = (
    "さん", "と話したい", "と話したいです", "と話がしたい", "と話せますか", "と話す",
    "に代わって", "に代わってください", "につないで", "につないでください",
    "をお願いします", "をお願い", "お願いします", "お願い", "ください", "に相談したい",
    "に聞きたい", "を呼んで", "を呼んでください", "はいますか", "に連絡したい",
    "と話したいのですが", "に問い合わせたい",
    "服务", "服務", "对话", "對話",
    "연결", "연결해주세요", "와이야기하고싶어요", "과이야기하고싶어요", "와통화", "과통화",
    "하고이야기하고싶어요", "과대화", "와대화",
)  # fmt: skip
STAFF_WORDS_LATIN = (
    "human", "person", "staff", "staff member", "operator", "agent", "someone", "officer",
    "real person", "live person", "human being",
    "operador", "operadora", "persona", "personal", "humano", "atendente", "funcionário",
    "funcionario", "empleado", "petugas", "manusia", "nhân viên", "người thật", "kawani",
    "tao",
)  # fmt: skip
STAFF_LEADS_LATIN = (
    "i want to talk to", "i want to speak to", "i want to speak with", "i want to talk with",
    "i'd like to talk to", "i'd like to speak to", "i would like to speak to",
    "i would like to talk to", "can i talk to", "can i speak to", "let me talk to",
    "talk to", "speak to", "speak with", "talk with", "connect me to", "connect me with",
    "i need", "i want", "contact",
    "quiero hablar con", "hablar con", "quero falar com", "falar com",
    "saya mau bicara dengan", "saya ingin bicara dengan", "bicara dengan",
    "tôi muốn nói chuyện với", "nói chuyện với", "gặp", "cho tôi gặp",
    "gusto kong makausap ang", "makipag-usap sa", "kausapin ang",
)  # fmt: skip
_ARTICLES_LATIN = ("a", "an", "the", "your", "town", "un", "una", "el", "la", "um", "uma",
                   "o", "ang", "sa", "real", "live")  # fmt: skip
_POLITE_LATIN = ("please", "por favor", "tolong", "po", "ạ")


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _staff_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    compact = re.compile(
        f"(?:{_alternation(STAFF_LEADS)})?(?:{_alternation(STAFF_WORDS)})"
        f"(?:{_alternation(STAFF_ENDINGS)})*"
    )
    latin = re.compile(
        f"(?:(?:{_alternation(STAFF_LEADS_LATIN)}) )?"
        f"(?:(?:{_alternation(_ARTICLES_LATIN)}) )*"
        f"(?:{_alternation(STAFF_WORDS_LATIN)})"
        f"(?: (?:{_alternation(_POLITE_LATIN)}))?"
    )
    return compact, latin


_STAFF_COMPACT, _STAFF_LATIN = _staff_patterns()


def asks_for_staff(text: str) -> bool:
    """Whether a message asks for a person rather than asking a question: the whole
    message is a request such as 「職員」「人と話したい」「窓口の人をお願いします」,
    "staff", "I want to talk to a human", 「转人工」, 「상담원 연결」, "hablar con una persona"."""
    t = unicodedata.normalize("NFKC", text).casefold().strip()
    if not t or len(t) > 60:
        return False
    t = re.sub(r"[\s。、，,.!！?？…~〜「」『』()（）・:：;；]+", " ", t).strip()
    compact = re.sub(r"(?:ですか|です|だ|よ|ね)$", "", t.replace(" ", ""))
    return bool(_STAFF_COMPACT.fullmatch(compact) or _STAFF_LATIN.fullmatch(t))


HANDOFF_BUTTON = {
    "ja": "職員にメッセージを送る",
    "ja-easy": "役場の 人に 送る",
    "en": "Message town staff",
    "zh-Hans": "给工作人员留言",
    "zh-Hant": "給工作人員留言",
    "ko": "직원에게 메시지 보내기",
    "vi": "Nhắn cho nhân viên",
    "pt": "Mensagem à equipe",
    "es": "Escribir al personal",
    "tl": "Mensahe sa kawani",
    "ne": "कर्मचारीलाई सन्देश",
    "id": "Pesan ke petugas",
}
CONSENT_YES = {
    "ja": "同意して送る",
    "ja-easy": "同意して 送る",
    "en": "Agree and send",
    "zh-Hans": "同意并发送",
    "zh-Hant": "同意並送出",
    "ko": "동의하고 보내기",
    "vi": "Đồng ý và gửi",
    "pt": "Concordar e enviar",
    "es": "Aceptar y enviar",
    "tl": "Pumayag at ipadala",
    "ne": "सहमत भई पठाउनुहोस्",
    "id": "Setuju dan kirim",
}
CONSENT_NO = {
    "ja": "やめる",
    "ja-easy": "やめる",
    "en": "Cancel",
    "zh-Hans": "取消",
    "zh-Hant": "取消",
    "ko": "취소",
    "vi": "Hủy",
    "pt": "Cancelar",
    "es": "Cancelar",
    "tl": "Kanselahin",
    "ne": "रद्द गर्नुहोस्",
    "id": "Batal",
}
STAFF_OPEN = {
    "ja": "{dept}は今、受付時間内です（{until}まで）。お電話でお問い合わせいただけます。",
    "ja-easy": "{dept}は 今 開いて います（{until}まで）。電話で 聞く ことが できます。",
    "en": "{dept} is open now (until {until}). You can call them.",
    "zh-Hans": "{dept}现在正在办公（至{until}）。您可以打电话咨询。",
    "zh-Hant": "{dept}現在正在辦公（至{until}）。您可以打電話詢問。",
    "ko": "{dept}은(는) 지금 업무 중입니다({until}까지). 전화로 문의하실 수 있습니다.",
    "vi": "{dept} đang làm việc (đến {until}). Bạn có thể gọi điện.",
    "pt": "{dept} está aberto agora (até {until}). Você pode ligar.",
    "es": "{dept} está abierto ahora (hasta las {until}). Puede llamar por teléfono.",
    "tl": "Bukas ngayon ang {dept} (hanggang {until}). Maaari kayong tumawag.",
    "ne": "{dept} अहिले खुला छ ({until} सम्म)। तपाईं फोन गर्न सक्नुहुन्छ।",
    "id": "{dept} sedang buka (sampai {until}). Anda bisa menelepon.",
}
STAFF_CLOSED = {
    "ja": "ただいま受付時間外です。{dept}の次の受付開始は{when}です。",
    "ja-easy": "今は 役場が 休みの 時間です。{dept}が 次に 開くのは {when}です。",
    "en": "The office is closed now. {dept} opens again on {when}.",
    "zh-Hans": "现在是非办公时间。{dept}下次开始办公的时间是{when}。",
    "zh-Hant": "現在是非辦公時間。{dept}下次開始辦公的時間是{when}。",
    "ko": "지금은 업무 시간이 아닙니다. {dept}의 다음 업무 시작은 {when}입니다.",
    "vi": "Hiện đang ngoài giờ làm việc. {dept} sẽ mở cửa lại vào {when}.",
    "pt": "Fora do horário de atendimento. {dept} abre novamente em {when}.",
    "es": "Ahora está fuera del horario de atención. {dept} vuelve a abrir el {when}.",
    "tl": "Sarado ang opisina ngayon. Magbubukas muli ang {dept} sa {when}.",
    "ne": "अहिले कार्यालय बन्द छ। {dept} फेरि {when} मा खुल्छ।",
    "id": "Saat ini di luar jam layanan. {dept} buka kembali pada {when}.",
}
STAFF_LEAVE = {
    "ja": "LINEで職員にメッセージを送ることもできます。返事はこのトークに届きます。",
    "ja-easy": "LINEで 役場の 人に メッセージを 送る ことも できます。返事は ここに 来ます。",
    "en": "You can also send town staff a message here; the reply comes to this chat.",
    "zh-Hans": "您也可以在这里给工作人员留言，回复会发送到这个聊天中。",
    "zh-Hant": "您也可以在這裡給工作人員留言，回覆會傳送到這個聊天中。",
    "ko": "여기에서 직원에게 메시지를 보낼 수도 있습니다. 답변은 이 대화방으로 옵니다.",
    "vi": "Bạn cũng có thể nhắn cho nhân viên tại đây; câu trả lời sẽ đến cuộc trò chuyện này.",
    "pt": "Você também pode enviar uma mensagem à equipe aqui; a resposta chega nesta conversa.",
    "es": "También puede escribir al personal aquí; la respuesta llegará a este chat.",
    "tl": "Maaari rin kayong magpadala ng mensahe sa kawani dito; darating ang sagot sa chat na ito.",
    "ne": "तपाईं यहीँबाट कर्मचारीलाई सन्देश पठाउन पनि सक्नुहुन्छ; जवाफ यही च्याटमा आउँछ।",
    "id": "Anda juga bisa mengirim pesan ke petugas di sini; balasannya masuk ke obrolan ini.",
}
CONSENT_NOTICE = {
    "ja": "職員に次の内容を送ります。\n「{question}」\n\nこの内容と、返事をこのトークに届けるためのLINEのユーザーIDを町が保存し、職員が読みます。保存期間は{days}日で、その後は削除されます。よろしければ「同意して送る」を押してください。",
    "ja-easy": "役場の 人に これを 送ります。\n「{question}」\n\nこの 文と、返事を ここに 送る ための LINEの IDを 役場が 残します。{days}日 たつと 消します。いい ときは 「同意して 送る」を 押して ください。",
    "en": 'This will be sent to town staff:\n"{question}"\n\nThe town keeps this message and your LINE user ID, so staff can read it and reply in this chat. They are kept for {days} days, then deleted. Tap "Agree and send" if you agree.',
    "zh-Hans": "将把以下内容发送给工作人员：\n“{question}”\n\n町政府会保存该内容和您的LINE用户ID，以便工作人员阅读并在此聊天中回复。保存{days}天后删除。如同意，请点击“同意并发送”。",
    "zh-Hant": "將把以下內容傳送給工作人員：\n「{question}」\n\n町公所會保存該內容和您的LINE使用者ID，以便工作人員閱讀並在此聊天中回覆。保存{days}天後刪除。如同意，請點選「同意並送出」。",
    "ko": '다음 내용을 직원에게 보냅니다.\n"{question}"\n\n직원이 읽고 이 대화방으로 답변할 수 있도록 읍사무소가 이 내용과 LINE 사용자 ID를 보관합니다. {days}일 동안 보관한 후 삭제합니다. 동의하시면 "동의하고 보내기"를 눌러 주세요.',
    "vi": 'Nội dung sau sẽ được gửi cho nhân viên:\n"{question}"\n\nTòa thị chính lưu nội dung này và ID người dùng LINE của bạn để nhân viên đọc và trả lời trong cuộc trò chuyện này. Dữ liệu được lưu {days} ngày rồi bị xóa. Nếu đồng ý, hãy nhấn "Đồng ý và gửi".',
    "pt": 'Isto será enviado à equipe:\n"{question}"\n\nA prefeitura guarda esta mensagem e o seu ID de usuário do LINE para que a equipe leia e responda nesta conversa. Eles são guardados por {days} dias e depois apagados. Toque em "Concordar e enviar" se concordar.',
    "es": 'Esto se enviará al personal:\n"{question}"\n\nEl ayuntamiento guarda este mensaje y su ID de usuario de LINE para que el personal lo lea y responda en este chat. Se guardan {days} días y después se borran. Toque "Aceptar y enviar" si está de acuerdo.',
    "tl": 'Ipapadala ito sa kawani:\n"{question}"\n\nItatago ng town office ang mensaheng ito at ang inyong LINE user ID para mabasa ito ng kawani at makasagot sa chat na ito. Itatago ang mga ito nang {days} araw at pagkatapos ay buburahin. I-tap ang "Pumayag at ipadala" kung pumapayag kayo.',
    "ne": 'यो कर्मचारीलाई पठाइनेछ:\n"{question}"\n\nकर्मचारीले पढेर यही च्याटमा जवाफ दिन सकून् भनेर कार्यालयले यो सन्देश र तपाईंको LINE प्रयोगकर्ता ID राख्छ। यी {days} दिनसम्म राखिन्छन्, त्यसपछि मेटाइन्छन्। सहमत हुनुहुन्छ भने "सहमत भई पठाउनुहोस्" थिच्नुहोस्।',
    "id": 'Ini akan dikirim ke petugas:\n"{question}"\n\nKantor kota menyimpan pesan ini dan ID pengguna LINE Anda agar petugas dapat membacanya dan membalas di obrolan ini. Data disimpan selama {days} hari, lalu dihapus. Ketuk "Setuju dan kirim" jika Anda setuju.',
}
HANDOFF_SENT = {
    "ja": "メッセージを受け付けました（受付番号 {id}）。職員から返事があると、このトークにお届けします。",
    "ja-easy": "メッセージを 受け取りました（番号 {id}）。役場の 人の 返事は ここに 来ます。",
    "en": "Your message has been received (ticket {id}). The staff reply will come to this chat.",
    "zh-Hans": "已收到您的留言（受理编号 {id}）。工作人员的回复将发送到这个聊天中。",
    "zh-Hant": "已收到您的留言（受理編號 {id}）。工作人員的回覆將傳送到這個聊天中。",
    "ko": "메시지가 접수되었습니다(접수 번호 {id}). 직원의 답변은 이 대화방으로 보내 드립니다.",
    "vi": "Đã nhận tin nhắn của bạn (số tiếp nhận {id}). Câu trả lời của nhân viên sẽ đến cuộc trò chuyện này.",
    "pt": "Recebemos sua mensagem (protocolo {id}). A resposta da equipe chegará nesta conversa.",
    "es": "Hemos recibido su mensaje (número {id}). La respuesta del personal llegará a este chat.",
    "tl": "Natanggap na ang inyong mensahe (numero {id}). Darating sa chat na ito ang sagot ng kawani.",
    "ne": "तपाईंको सन्देश प्राप्त भयो (नम्बर {id})। कर्मचारीको जवाफ यही च्याटमा आउनेछ।",
    "id": "Pesan Anda sudah diterima (nomor {id}). Balasan petugas akan masuk ke obrolan ini.",
}
HANDOFF_CANCELLED = {
    "ja": "送信をやめました。内容は保存していません。",
    "ja-easy": "送るのを やめました。何も 残して いません。",
    "en": "Not sent. Nothing was kept.",
    "zh-Hans": "已取消发送，未保存任何内容。",
    "zh-Hant": "已取消傳送，未保存任何內容。",
    "ko": "보내지 않았습니다. 아무것도 보관하지 않았습니다.",
    "vi": "Đã hủy gửi. Không có gì được lưu.",
    "pt": "Não enviado. Nada foi guardado.",
    "es": "No se envió. No se guardó nada.",
    "tl": "Hindi ipinadala. Walang itinago.",
    "ne": "पठाइएन। केही पनि राखिएन।",
    "id": "Tidak dikirim. Tidak ada yang disimpan.",
}
HANDOFF_NOTHING = {
    "ja": "職員に送るご質問が見つかりませんでした。ご質問を文字で送ってから、もう一度「職員にメッセージを送る」を押してください。",
    "ja-easy": "送る 質問が ありません。聞きたい ことを 文字で 送ってから、もう一度 押して ください。",
    "en": 'There is no question to send yet. Please type your question first, then tap "Message town staff" again.',
    "zh-Hans": "没有找到要发送给工作人员的问题。请先用文字发送问题，然后再点击“给工作人员留言”。",
    "zh-Hant": "沒有找到要傳送給工作人員的問題。請先用文字傳送問題，然後再點選「給工作人員留言」。",
    "ko": '직원에게 보낼 질문이 없습니다. 먼저 질문을 글자로 보낸 후 다시 "직원에게 메시지 보내기"를 눌러 주세요.',
    "vi": 'Chưa có câu hỏi để gửi. Hãy gõ câu hỏi trước, rồi nhấn lại "Nhắn cho nhân viên".',
    "pt": 'Ainda não há pergunta para enviar. Escreva sua pergunta primeiro e toque de novo em "Mensagem à equipe".',
    "es": 'Todavía no hay ninguna pregunta que enviar. Escriba primero su pregunta y vuelva a tocar "Escribir al personal".',
    "tl": 'Wala pang tanong na maipapadala. Isulat muna ang tanong, saka i-tap muli ang "Mensahe sa kawani".',
    "ne": 'पठाउने प्रश्न भेटिएन। पहिले प्रश्न लेखेर पठाउनुहोस्, अनि फेरि "कर्मचारीलाई सन्देश" थिच्नुहोस्।',
    "id": 'Belum ada pertanyaan untuk dikirim. Ketik pertanyaan Anda dulu, lalu ketuk lagi "Pesan ke petugas".',
}
HANDOFF_OFF = {
    "ja": "職員へのメッセージは受け付けていません。役場へお電話ください。",
    "ja-easy": "役場の 人への メッセージは 受け付けて いません。役場に 電話して ください。",
    "en": "Messages to town staff are not taken here. Please call the town office.",
    "zh-Hans": "此处不受理给工作人员的留言。请致电町政府。",
    "zh-Hant": "此處不受理給工作人員的留言。請致電町公所。",
    "ko": "여기에서는 직원에게 메시지를 받지 않습니다. 사무소로 전화해 주세요.",
    "vi": "Ở đây không nhận tin nhắn gửi nhân viên. Vui lòng gọi cho tòa thị chính.",
    "pt": "Mensagens à equipe não são aceitas aqui. Ligue para a prefeitura, por favor.",
    "es": "Aquí no se aceptan mensajes al personal. Llame al ayuntamiento, por favor.",
    "tl": "Hindi tumatanggap dito ng mensahe para sa kawani. Pakitawagan ang town office.",
    "ne": "यहाँ कर्मचारीलाई सन्देश लिइँदैन। कृपया कार्यालयमा फोन गर्नुहोस्।",
    "id": "Pesan untuk petugas tidak diterima di sini. Silakan hubungi kantor kota.",
}
STAFF_REPLY = {
    "ja": "職員からの返事（受付番号 {id}）",
    "ja-easy": "役場の 人からの 返事（番号 {id}）",
    "en": "Reply from town staff (ticket {id})",
    "zh-Hans": "工作人员的回复（受理编号 {id}）",
    "zh-Hant": "工作人員的回覆（受理編號 {id}）",
    "ko": "직원의 답변(접수 번호 {id})",
    "vi": "Trả lời của nhân viên (số {id})",
    "pt": "Resposta da equipe (protocolo {id})",
    "es": "Respuesta del personal (número {id})",
    "tl": "Sagot ng kawani (numero {id})",
    "ne": "कर्मचारीको जवाफ (नम्बर {id})",
    "id": "Balasan petugas (nomor {id})",
}
WEEKDAYS = {
    "ja": "月火水木金土日",
    "zh-Hans": "一二三四五六日",
    "zh-Hant": "一二三四五六日",
    "ko": "월화수목금토일",
}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
_DAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def when_text(iso: str, lang: str) -> str:
    """An opening time (``2026-12-03T08:30+09:00``) as a sentence of ``lang`` writes it:
    「12月3日(木) 08:30」, "Thu, December 3, 08:30", 「12月3日（周四）08:30」."""
    t = datetime.fromisoformat(iso)
    hm = t.strftime("%H:%M")
    family = lang.split("-")[0]
    if family == "ja":
        return f"{t.month}月{t.day}日({WEEKDAYS['ja'][t.weekday()]}) {hm}"
    if lang in ("zh-Hans", "zh-Hant"):
        week = "周" if lang == "zh-Hans" else "週"
        return f"{t.month}月{t.day}日（{week}{WEEKDAYS[lang][t.weekday()]}）{hm}"
    if lang == "ko":
        return f"{t.month}월 {t.day}일({WEEKDAYS['ko'][t.weekday()]}) {hm}"
    if lang == "en":
        return f"{_DAYS_EN[t.weekday()]}, {_MONTHS_EN[t.month - 1]} {t.day}, {hm}"
    return f"{t.date().isoformat()} {hm}"


HANDOFF_OFFER = "handoff=offer"
HANDOFF_CANCEL = "handoff=cancel"


def handoff_send_data(question_digest: str) -> str:
    """The postback of 同意して送る: the digest of the question shown, so a tap sends
    what the notice showed (a question sent in between is shown again first)."""
    return urlencode({"handoff": "send", "q": question_digest})


def parse_handoff(data: str) -> tuple[str, str] | None:
    """(offer | send | cancel, the question digest of a send) of a hand-off postback."""
    q = parse_qs(data, max_num_fields=4)
    action, digest = q.get("handoff", []), q.get("q", [""])
    if len(action) != 1 or action[0] not in ("offer", "send", "cancel") or len(digest) != 1:
        return None
    if len(digest[0]) > 64:
        return None
    return action[0], digest[0]


def postback_button(label: str, data: str) -> dict[str, Any]:
    label = clip(label, MAX_LABEL)
    return {
        "type": "action",
        "action": {"type": "postback", "label": label, "data": data, "displayText": label},
    }


def handoff_button(lang: str) -> dict[str, Any]:
    return postback_button(phrase(HANDOFF_BUTTON, lang), HANDOFF_OFFER)


def staff_offer(offer: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The answer to 「職員」: the office open now with its phone, or when it opens,
    and the button to send staff a message (``offer`` is ``kit.handoff.offer``'s)."""
    dept = str(offer.get("department_label") or offer.get("department") or "")
    if offer.get("open"):
        until = str(offer.get("closes_at") or "")[11:16]
        text = phrase(STAFF_OPEN, lang).format(dept=dept, until=until)
        if offer.get("phone"):
            text += f"\n{phrase(TEL, lang)} {offer['phone']}"
    elif offer.get("next_open"):
        text = phrase(STAFF_CLOSED, lang).format(
            dept=dept, when=when_text(str(offer["next_open"]), lang)
        )
    else:
        text = phrase(STAFF_CLOSED, lang).split("。")[0].split(". ")[0]
    text += "\n\n" + phrase(STAFF_LEAVE, lang)
    return with_quick_replies([text_message(text)], [handoff_button(lang)])


def consent_messages(question: str, digest: str, days: int, lang: str) -> list[dict[str, Any]]:
    """What is kept and for how long, with 同意して送る / やめる."""
    text = phrase(CONSENT_NOTICE, lang).format(question=clip(question, 1000), days=days)
    buttons = [
        postback_button(phrase(CONSENT_YES, lang), handoff_send_data(digest)),
        postback_button(phrase(CONSENT_NO, lang), HANDOFF_CANCEL),
    ]
    return with_quick_replies([text_message(text)], buttons)


def staff_reply_messages(ticket: str, reply: str, lang: str | None) -> list[dict[str, Any]]:
    """Staff's reply, pushed: a heading with the ticket number, then the reply as written."""
    head = phrase(STAFF_REPLY, lang or "ja").format(id=ticket)
    return [text_message(f"{head}\n\n{reply}")]
