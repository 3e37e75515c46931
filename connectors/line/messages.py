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
(``feedback_data``); a refusal also offers the town's suggested questions.

The fixed texts of the channel (greeting, "send your question as text", thanks for
feedback, "too many messages") are written here in the widget's twelve languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from madoguchi.kit.lang import CONTACT, is_japanese, phone_text, phrase

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
