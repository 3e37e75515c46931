/*!
 * madoguchi resident chat widget — one self-contained file, no framework, no build step.
 *
 * Embed with one tag (see README "Embedding the residents' chat widget"):
 *   <script src="https://ai.town.example.jp/widget.js" data-lang="ja" async></script>
 * On a service shared by several towns the tag names its town: data-town="minami".
 *
 * Everything lives in a closed Shadow DOM: the host page's CSS cannot reach inside and the
 * widget's CSS cannot leak out. Every piece of text coming from the API (answers, titles,
 * follow-up questions, town settings) is written with textContent or as a DOM text node,
 * never parsed as HTML, so markup in a town document shows as text and never runs.
 */
(function () {
  "use strict";

  if (window.__madoguchiWidget) return; // the tag was included twice
  window.__madoguchiWidget = true;

  // ---------------------------------------------------------------- labels (12 languages)
  var LANG_NAMES = {
    ja: "日本語",
    "ja-easy": "やさしい日本語",
    en: "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    ko: "한국어",
    vi: "Tiếng Việt",
    pt: "Português",
    es: "Español",
    tl: "Tagalog",
    ne: "नेपाली",
    id: "Bahasa Indonesia",
  };
  var LANGS = Object.keys(LANG_NAMES);
  // the BCP 47 tag put on the panel (screen readers, CJK glyph choice)
  var HTML_LANG = { "ja-easy": "ja" };

  var T = {
    ja: {
      launch: "AIに質問",
      title: "{town} AI案内",
      titleNoTown: "AI案内",
      intro: "こんにちは。{town}の公開資料をもとに、手続きや暮らしの質問にお答えします。",
      introNoTown: "こんにちは。町の公開資料をもとに、手続きや暮らしの質問にお答えします。",
      examples: "よくある質問の例",
      placeholder: "質問を入力してください",
      hint: "Enterキーで送信、Shift＋Enterで改行します。",
      send: "送信",
      close: "閉じる",
      language: "言語",
      newChat: "新しい会話",
      you: "あなたの質問",
      bot: "回答",
      thinking: "回答を探しています…",
      sources: "出典",
      related: "参考になりそうな資料",
      newTab: "（新しいタブで開きます）",
      helpful: "この回答は役に立ちましたか？",
      yes: "役に立った",
      no: "役に立たなかった",
      thanks: "ご協力ありがとうございます。",
      commentLabel: "足りなかった点があれば教えてください（任意。個人情報は書かないでください）",
      commentSend: "送る",
      feedbackError: "評価を送信できませんでした。",
      contact: "お問い合わせ",
      phone: "電話",
      townPhone: "お電話でのお問い合わせ",
      disclaimer:
        "回答は町の公開資料から自動で作成しています。必ず出典を確認し、わからないときは電話でお問い合わせください。氏名・住所・電話番号などの個人情報は入力しないでください。",
      original: "日本語の原文",
      errNetwork: "サーバーに接続できませんでした。通信環境を確認して、もう一度送信してください。",
      errRate: "短い時間に質問が集中しています。{s}秒ほど待ってから、もう一度送信してください。",
      errRateNoTime: "短い時間に質問が集中しています。しばらく待ってから、もう一度送信してください。",
      errDaily: "本日の質問の上限に達しました。明日もう一度お試しいただくか、お電話でお問い合わせください。",
      errBusy: "ただいまサービスを利用できません。しばらくしてから、もう一度お試しください。",
      errTooLong: "質問が長すぎます。短くして送信してください。",
      errBad: "この質問は送信できませんでした。内容を確認してください。",
      errServer: "エラーが発生しました。しばらくしてから、もう一度お試しください。",
      errStream: "回答の受信が途中で途切れました。もう一度送信してください。",
    },
    "ja-easy": {
      launch: "AIに 聞く",
      title: "{town}の AI 相談",
      titleNoTown: "AI 相談",
      intro: "こんにちは。{town}の 資料を 見て、あなたの 質問に 答えます。",
      introNoTown: "こんにちは。町の 資料を 見て、あなたの 質問に 答えます。",
      examples: "質問の 例",
      placeholder: "質問を 書いて ください",
      hint: "Enter キーで 送ります。Shift と Enter で 次の 行に なります。",
      send: "送る",
      close: "閉じる",
      language: "ことば",
      newChat: "はじめから",
      you: "あなたの 質問",
      bot: "答え",
      thinking: "答えを さがして います…",
      sources: "答えの もとの ページ",
      related: "よんで みると いい ページ",
      newTab: "（新しい タブで 開きます）",
      helpful: "この 答えは 役に 立ちましたか？",
      yes: "役に 立った",
      no: "役に 立たなかった",
      thanks: "ありがとう ございます。",
      commentLabel:
        "わからなかった ことを 書いて ください（書かなくても いいです。名前や 住所は 書かないで ください）",
      commentSend: "送る",
      feedbackError: "送る ことが できませんでした。",
      contact: "聞きたい ときは",
      phone: "電話",
      townPhone: "電話で 聞く ときは",
      disclaimer:
        "答えは コンピューター（AI）が 町の 資料から 作りました。まちがいが ある かもしれません。下の ページで 確かめて ください。わからない ときは 電話して ください。名前・住所・電話番号は 書かないで ください。",
      original: "もとの 日本語",
      errNetwork: "つながりませんでした。インターネットを 確かめて、もう一度 送って ください。",
      errRate: "質問が 多すぎます。{s}秒 待ってから、もう一度 送って ください。",
      errRateNoTime: "質問が 多すぎます。少し 待ってから、もう一度 送って ください。",
      errDaily: "今日は もう 質問 できません。明日 また 使って ください。電話でも 聞く ことが できます。",
      errBusy: "今は 使えません。あとで もう一度 使って ください。",
      errTooLong: "質問が 長すぎます。短く して ください。",
      errBad: "この 質問は 送れませんでした。",
      errServer: "問題が 起きました。あとで もう一度 送って ください。",
      errStream: "答えが 途中で 止まりました。もう一度 送って ください。",
    },
    en: {
      launch: "Ask us",
      title: "{town} AI assistant",
      titleNoTown: "AI assistant",
      intro:
        "Hello. I answer questions about procedures and daily life using {town}'s published documents.",
      introNoTown:
        "Hello. I answer questions about procedures and daily life using the town's published documents.",
      examples: "Example questions",
      placeholder: "Type your question",
      hint: "Press Enter to send, Shift+Enter for a new line.",
      send: "Send",
      close: "Close",
      language: "Language",
      newChat: "New conversation",
      you: "Your question",
      bot: "Answer",
      thinking: "Looking for an answer…",
      sources: "Sources",
      related: "Pages that may help",
      newTab: "(opens in a new tab)",
      helpful: "Was this answer helpful?",
      yes: "Helpful",
      no: "Not helpful",
      thanks: "Thank you for your feedback.",
      commentLabel: "What was missing? (optional; please do not include personal information)",
      commentSend: "Send",
      feedbackError: "Your feedback could not be sent.",
      contact: "Contact",
      phone: "Tel.",
      townPhone: "Questions by phone",
      disclaimer:
        "Answers are generated automatically from the town's published documents. Please check the sources, and call us if you are unsure. Do not enter personal information such as your name, address or phone number.",
      original: "Japanese original",
      errNetwork: "Could not reach the server. Check your connection and send your question again.",
      errRate: "Too many questions in a short time. Please wait about {s} seconds and send again.",
      errRateNoTime: "Too many questions in a short time. Please wait a moment and send again.",
      errDaily: "The daily limit of questions has been reached. Please try again tomorrow or call us.",
      errBusy: "The service is not available right now. Please try again later.",
      errTooLong: "Your question is too long. Please shorten it.",
      errBad: "This question could not be sent. Please check it.",
      errServer: "Something went wrong. Please try again later.",
      errStream: "The answer was cut off. Please send your question again.",
    },
    "zh-Hans": {
      launch: "在线咨询",
      title: "{town} AI 咨询",
      titleNoTown: "AI 咨询",
      intro: "您好！我会根据{town}公开的资料，回答有关手续和生活的问题。",
      introNoTown: "您好！我会根据本町公开的资料，回答有关手续和生活的问题。",
      examples: "问题示例",
      placeholder: "请输入您的问题",
      hint: "按 Enter 发送，按 Shift+Enter 换行。",
      send: "发送",
      close: "关闭",
      language: "语言",
      newChat: "新对话",
      you: "您的问题",
      bot: "回答",
      thinking: "正在查找答案…",
      sources: "出处",
      related: "可能有帮助的资料",
      newTab: "（在新标签页中打开）",
      helpful: "这个回答对您有帮助吗？",
      yes: "有帮助",
      no: "没有帮助",
      thanks: "感谢您的反馈。",
      commentLabel: "还缺少哪些信息？（选填，请勿填写个人信息）",
      commentSend: "发送",
      feedbackError: "反馈发送失败。",
      contact: "咨询窗口",
      phone: "电话",
      townPhone: "电话咨询",
      disclaimer:
        "回答由系统根据本町公开资料自动生成。请务必查看出处；如有疑问，请致电咨询。请勿输入姓名、住址、电话号码等个人信息。",
      original: "日文原文",
      errNetwork: "无法连接服务器。请检查网络后重新发送。",
      errRate: "短时间内提问过多。请等待约{s}秒后重新发送。",
      errRateNoTime: "短时间内提问过多。请稍等片刻后重新发送。",
      errDaily: "今天的提问次数已达上限。请明天再试，或致电咨询。",
      errBusy: "服务暂时无法使用，请稍后再试。",
      errTooLong: "问题太长，请缩短后再发送。",
      errBad: "无法发送此问题，请检查内容。",
      errServer: "发生错误，请稍后再试。",
      errStream: "回答接收中断，请重新发送问题。",
    },
    "zh-Hant": {
      launch: "線上諮詢",
      title: "{town} AI 諮詢",
      titleNoTown: "AI 諮詢",
      intro: "您好！我會根據{town}公開的資料，回答有關手續和生活的問題。",
      introNoTown: "您好！我會根據本町公開的資料，回答有關手續和生活的問題。",
      examples: "問題範例",
      placeholder: "請輸入您的問題",
      hint: "按 Enter 傳送，按 Shift+Enter 換行。",
      send: "傳送",
      close: "關閉",
      language: "語言",
      newChat: "新對話",
      you: "您的問題",
      bot: "回答",
      thinking: "正在查找答案…",
      sources: "出處",
      related: "可能有幫助的資料",
      newTab: "（在新分頁中開啟）",
      helpful: "這個回答對您有幫助嗎？",
      yes: "有幫助",
      no: "沒有幫助",
      thanks: "感謝您的意見回饋。",
      commentLabel: "還缺少哪些資訊？（選填，請勿填寫個人資料）",
      commentSend: "傳送",
      feedbackError: "意見回饋傳送失敗。",
      contact: "諮詢窗口",
      phone: "電話",
      townPhone: "電話諮詢",
      disclaimer:
        "回答由系統根據本町公開資料自動產生。請務必查看出處；如有疑問，請來電諮詢。請勿輸入姓名、地址、電話號碼等個人資料。",
      original: "日文原文",
      errNetwork: "無法連線至伺服器。請檢查網路後重新傳送。",
      errRate: "短時間內提問過多。請等待約{s}秒後重新傳送。",
      errRateNoTime: "短時間內提問過多。請稍候片刻後重新傳送。",
      errDaily: "今天的提問次數已達上限。請明天再試，或來電諮詢。",
      errBusy: "服務暫時無法使用，請稍後再試。",
      errTooLong: "問題太長，請縮短後再傳送。",
      errBad: "無法傳送此問題，請檢查內容。",
      errServer: "發生錯誤，請稍後再試。",
      errStream: "回答接收中斷，請重新傳送問題。",
    },
    ko: {
      launch: "질문하기",
      title: "{town} AI 안내",
      titleNoTown: "AI 안내",
      intro: "안녕하세요. {town}의 공개 자료를 바탕으로 각종 절차와 생활에 관한 질문에 답해 드립니다.",
      introNoTown: "안녕하세요. 마을의 공개 자료를 바탕으로 각종 절차와 생활에 관한 질문에 답해 드립니다.",
      examples: "질문 예시",
      placeholder: "질문을 입력해 주세요",
      hint: "Enter 키로 보내고, Shift+Enter로 줄을 바꿉니다.",
      send: "보내기",
      close: "닫기",
      language: "언어",
      newChat: "새 대화",
      you: "내 질문",
      bot: "답변",
      thinking: "답변을 찾고 있습니다…",
      sources: "출처",
      related: "도움이 될 수 있는 자료",
      newTab: "(새 탭에서 열림)",
      helpful: "이 답변이 도움이 되었나요?",
      yes: "도움이 됨",
      no: "도움이 안 됨",
      thanks: "의견을 보내 주셔서 감사합니다.",
      commentLabel: "부족했던 점을 알려 주세요 (선택 사항, 개인정보는 적지 마세요)",
      commentSend: "보내기",
      feedbackError: "의견을 보내지 못했습니다.",
      contact: "문의처",
      phone: "전화",
      townPhone: "전화 문의",
      disclaimer:
        "답변은 마을의 공개 자료를 바탕으로 자동 생성됩니다. 반드시 출처를 확인하시고, 잘 모르실 때는 전화로 문의해 주세요. 이름, 주소, 전화번호 등 개인정보는 입력하지 마세요.",
      original: "일본어 원문",
      errNetwork: "서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 다시 보내 주세요.",
      errRate: "짧은 시간에 질문이 너무 많습니다. 약 {s}초 후에 다시 보내 주세요.",
      errRateNoTime: "짧은 시간에 질문이 너무 많습니다. 잠시 후에 다시 보내 주세요.",
      errDaily: "오늘 질문할 수 있는 횟수를 모두 사용했습니다. 내일 다시 시도하시거나 전화로 문의해 주세요.",
      errBusy: "지금은 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요.",
      errTooLong: "질문이 너무 깁니다. 짧게 줄여 주세요.",
      errBad: "이 질문은 보낼 수 없습니다. 내용을 확인해 주세요.",
      errServer: "오류가 발생했습니다. 잠시 후 다시 시도해 주세요.",
      errStream: "답변 수신이 중간에 끊겼습니다. 질문을 다시 보내 주세요.",
    },
    vi: {
      launch: "Hỏi đáp",
      title: "Trợ lý AI {town}",
      titleNoTown: "Trợ lý AI",
      intro:
        "Xin chào. Tôi trả lời các câu hỏi về thủ tục và đời sống dựa trên tài liệu công khai của {town}.",
      introNoTown:
        "Xin chào. Tôi trả lời các câu hỏi về thủ tục và đời sống dựa trên tài liệu công khai của thị trấn.",
      examples: "Câu hỏi mẫu",
      placeholder: "Nhập câu hỏi của bạn",
      hint: "Nhấn Enter để gửi, Shift+Enter để xuống dòng.",
      send: "Gửi",
      close: "Đóng",
      language: "Ngôn ngữ",
      newChat: "Cuộc trò chuyện mới",
      you: "Câu hỏi của bạn",
      bot: "Câu trả lời",
      thinking: "Đang tìm câu trả lời…",
      sources: "Nguồn",
      related: "Tài liệu có thể hữu ích",
      newTab: "(mở trong thẻ mới)",
      helpful: "Câu trả lời này có hữu ích không?",
      yes: "Hữu ích",
      no: "Không hữu ích",
      thanks: "Cảm ơn bạn đã góp ý.",
      commentLabel:
        "Câu trả lời còn thiếu điều gì? (không bắt buộc; vui lòng không ghi thông tin cá nhân)",
      commentSend: "Gửi",
      feedbackError: "Không gửi được góp ý.",
      contact: "Liên hệ",
      phone: "Điện thoại",
      townPhone: "Hỏi qua điện thoại",
      disclaimer:
        "Câu trả lời được tạo tự động từ tài liệu công khai của thị trấn. Vui lòng kiểm tra nguồn và gọi điện nếu bạn chưa rõ. Không nhập thông tin cá nhân như họ tên, địa chỉ hay số điện thoại.",
      original: "Bản gốc tiếng Nhật",
      errNetwork: "Không kết nối được với máy chủ. Hãy kiểm tra kết nối mạng rồi gửi lại.",
      errRate: "Có quá nhiều câu hỏi trong thời gian ngắn. Vui lòng đợi khoảng {s} giây rồi gửi lại.",
      errRateNoTime: "Có quá nhiều câu hỏi trong thời gian ngắn. Vui lòng đợi một lát rồi gửi lại.",
      errDaily: "Bạn đã đạt giới hạn câu hỏi trong ngày. Vui lòng thử lại vào ngày mai hoặc gọi điện cho chúng tôi.",
      errBusy: "Dịch vụ hiện không khả dụng. Vui lòng thử lại sau.",
      errTooLong: "Câu hỏi quá dài. Vui lòng rút ngắn lại.",
      errBad: "Không thể gửi câu hỏi này. Vui lòng kiểm tra lại nội dung.",
      errServer: "Đã xảy ra lỗi. Vui lòng thử lại sau.",
      errStream: "Câu trả lời bị gián đoạn. Vui lòng gửi lại câu hỏi.",
    },
    pt: {
      launch: "Pergunte",
      title: "Assistente de IA de {town}",
      titleNoTown: "Assistente de IA",
      intro:
        "Olá! Respondo perguntas sobre trâmites e o dia a dia com base nos documentos públicos de {town}.",
      introNoTown:
        "Olá! Respondo perguntas sobre trâmites e o dia a dia com base nos documentos públicos da cidade.",
      examples: "Exemplos de perguntas",
      placeholder: "Digite sua pergunta",
      hint: "Pressione Enter para enviar e Shift+Enter para nova linha.",
      send: "Enviar",
      close: "Fechar",
      language: "Idioma",
      newChat: "Nova conversa",
      you: "Sua pergunta",
      bot: "Resposta",
      thinking: "Procurando a resposta…",
      sources: "Fontes",
      related: "Páginas que podem ajudar",
      newTab: "(abre em uma nova aba)",
      helpful: "Esta resposta foi útil?",
      yes: "Útil",
      no: "Não foi útil",
      thanks: "Obrigado pela sua opinião.",
      commentLabel: "O que faltou? (opcional; não inclua dados pessoais)",
      commentSend: "Enviar",
      feedbackError: "Não foi possível enviar sua opinião.",
      contact: "Contato",
      phone: "Tel.",
      townPhone: "Atendimento por telefone",
      disclaimer:
        "As respostas são geradas automaticamente a partir dos documentos públicos da cidade. Confira sempre as fontes e, em caso de dúvida, ligue para nós. Não digite dados pessoais como nome, endereço ou telefone.",
      original: "Original em japonês",
      errNetwork: "Não foi possível conectar ao servidor. Verifique sua conexão e envie novamente.",
      errRate: "Muitas perguntas em pouco tempo. Aguarde cerca de {s} segundos e envie novamente.",
      errRateNoTime: "Muitas perguntas em pouco tempo. Aguarde um momento e envie novamente.",
      errDaily: "O limite diário de perguntas foi atingido. Tente novamente amanhã ou ligue para nós.",
      errBusy: "O serviço não está disponível no momento. Tente novamente mais tarde.",
      errTooLong: "Sua pergunta é muito longa. Por favor, encurte-a.",
      errBad: "Não foi possível enviar esta pergunta. Verifique o texto.",
      errServer: "Ocorreu um erro. Tente novamente mais tarde.",
      errStream: "A resposta foi interrompida. Envie sua pergunta novamente.",
    },
    es: {
      launch: "Pregúntenos",
      title: "Asistente de IA de {town}",
      titleNoTown: "Asistente de IA",
      intro:
        "Hola. Respondo preguntas sobre trámites y la vida diaria con base en los documentos públicos de {town}.",
      introNoTown:
        "Hola. Respondo preguntas sobre trámites y la vida diaria con base en los documentos públicos del municipio.",
      examples: "Preguntas de ejemplo",
      placeholder: "Escriba su pregunta",
      hint: "Pulse Enter para enviar y Shift+Enter para una línea nueva.",
      send: "Enviar",
      close: "Cerrar",
      language: "Idioma",
      newChat: "Nueva conversación",
      you: "Su pregunta",
      bot: "Respuesta",
      thinking: "Buscando la respuesta…",
      sources: "Fuentes",
      related: "Páginas que pueden ayudar",
      newTab: "(se abre en una pestaña nueva)",
      helpful: "¿Le fue útil esta respuesta?",
      yes: "Útil",
      no: "No fue útil",
      thanks: "Gracias por su opinión.",
      commentLabel: "¿Qué faltó? (opcional; no incluya datos personales)",
      commentSend: "Enviar",
      feedbackError: "No se pudo enviar su opinión.",
      contact: "Contacto",
      phone: "Tel.",
      townPhone: "Consultas por teléfono",
      disclaimer:
        "Las respuestas se generan automáticamente a partir de los documentos públicos del municipio. Consulte siempre las fuentes y, si tiene dudas, llámenos. No escriba datos personales como su nombre, dirección o teléfono.",
      original: "Original en japonés",
      errNetwork:
        "No se pudo conectar con el servidor. Revise su conexión y vuelva a enviar la pregunta.",
      errRate: "Demasiadas preguntas en poco tiempo. Espere unos {s} segundos y vuelva a enviarla.",
      errRateNoTime: "Demasiadas preguntas en poco tiempo. Espere un momento y vuelva a enviarla.",
      errDaily: "Se alcanzó el límite diario de preguntas. Inténtelo mañana o llámenos.",
      errBusy: "El servicio no está disponible en este momento. Inténtelo más tarde.",
      errTooLong: "Su pregunta es demasiado larga. Acórtela, por favor.",
      errBad: "No se pudo enviar esta pregunta. Revise el texto.",
      errServer: "Se produjo un error. Inténtelo más tarde.",
      errStream: "La respuesta se interrumpió. Vuelva a enviar su pregunta.",
    },
    tl: {
      launch: "Magtanong",
      title: "AI assistant ng {town}",
      titleNoTown: "AI assistant",
      intro:
        "Kumusta! Sinasagot ko ang mga tanong tungkol sa mga proseso at pang-araw-araw na buhay batay sa mga pampublikong dokumento ng {town}.",
      introNoTown:
        "Kumusta! Sinasagot ko ang mga tanong tungkol sa mga proseso at pang-araw-araw na buhay batay sa mga pampublikong dokumento ng bayan.",
      examples: "Mga halimbawang tanong",
      placeholder: "Isulat ang iyong tanong",
      hint: "Pindutin ang Enter para ipadala, Shift+Enter para sa bagong linya.",
      send: "Ipadala",
      close: "Isara",
      language: "Wika",
      newChat: "Bagong usapan",
      you: "Ang iyong tanong",
      bot: "Sagot",
      thinking: "Hinahanap ang sagot…",
      sources: "Mga sanggunian",
      related: "Mga pahinang maaaring makatulong",
      newTab: "(magbubukas sa bagong tab)",
      helpful: "Nakatulong ba ang sagot na ito?",
      yes: "Nakatulong",
      no: "Hindi nakatulong",
      thanks: "Salamat sa iyong puna.",
      commentLabel: "Ano ang kulang? (opsyonal; huwag isulat ang personal na impormasyon)",
      commentSend: "Ipadala",
      feedbackError: "Hindi naipadala ang iyong puna.",
      contact: "Makipag-ugnayan sa",
      phone: "Tel.",
      townPhone: "Pagtatanong sa telepono",
      disclaimer:
        "Awtomatikong ginagawa ang mga sagot mula sa mga pampublikong dokumento ng bayan. Pakitingnan ang mga sanggunian, at tumawag sa amin kung hindi ka sigurado. Huwag ilagay ang personal na impormasyon gaya ng pangalan, tirahan o numero ng telepono.",
      original: "Orihinal sa wikang Hapon",
      errNetwork: "Hindi makakonekta sa server. Suriin ang iyong koneksyon at ipadala muli.",
      errRate:
        "Masyadong maraming tanong sa maikling oras. Maghintay nang mga {s} segundo at ipadala muli.",
      errRateNoTime:
        "Masyadong maraming tanong sa maikling oras. Maghintay nang kaunti at ipadala muli.",
      errDaily: "Naabot na ang limitasyon ng mga tanong para sa araw na ito. Subukang muli bukas o tumawag sa amin.",
      errBusy: "Hindi magagamit ang serbisyo sa ngayon. Subukang muli mamaya.",
      errTooLong: "Masyadong mahaba ang iyong tanong. Paikliin ito.",
      errBad: "Hindi maipadala ang tanong na ito. Pakisuri ang nilalaman.",
      errServer: "Nagkaroon ng error. Subukang muli mamaya.",
      errStream: "Naputol ang sagot. Ipadala muli ang iyong tanong.",
    },
    ne: {
      launch: "प्रश्न सोध्नुहोस्",
      title: "{town} AI सहायक",
      titleNoTown: "AI सहायक",
      intro:
        "नमस्ते। म {town}का सार्वजनिक कागजातका आधारमा प्रक्रिया र दैनिक जीवनसम्बन्धी प्रश्नहरूको उत्तर दिन्छु।",
      introNoTown:
        "नमस्ते। म नगरका सार्वजनिक कागजातका आधारमा प्रक्रिया र दैनिक जीवनसम्बन्धी प्रश्नहरूको उत्तर दिन्छु।",
      examples: "प्रश्नका उदाहरण",
      placeholder: "आफ्नो प्रश्न लेख्नुहोस्",
      hint: "पठाउन Enter थिच्नुहोस्, नयाँ लाइनका लागि Shift+Enter थिच्नुहोस्।",
      send: "पठाउनुहोस्",
      close: "बन्द गर्नुहोस्",
      language: "भाषा",
      newChat: "नयाँ कुराकानी",
      you: "तपाईंको प्रश्न",
      bot: "उत्तर",
      thinking: "उत्तर खोज्दै…",
      sources: "स्रोत",
      related: "सहयोगी हुन सक्ने पृष्ठहरू",
      newTab: "(नयाँ ट्याबमा खुल्छ)",
      helpful: "के यो उत्तर उपयोगी भयो?",
      yes: "उपयोगी भयो",
      no: "उपयोगी भएन",
      thanks: "तपाईंको प्रतिक्रियाका लागि धन्यवाद।",
      commentLabel: "के कुरा नपुगेको थियो? (ऐच्छिक; व्यक्तिगत जानकारी नलेख्नुहोस्)",
      commentSend: "पठाउनुहोस्",
      feedbackError: "प्रतिक्रिया पठाउन सकिएन।",
      contact: "सम्पर्क",
      phone: "फोन",
      townPhone: "फोनबाट सोधपुछ",
      disclaimer:
        "उत्तरहरू नगरका सार्वजनिक कागजातबाट स्वचालित रूपमा तयार गरिन्छन्। कृपया स्रोत अवश्य हेर्नुहोस्, र निश्चित नभए फोन गर्नुहोस्। नाम, ठेगाना, फोन नम्बर जस्ता व्यक्तिगत जानकारी नलेख्नुहोस्।",
      original: "जापानी मूल पाठ",
      errNetwork: "सर्भरसँग जोडिन सकिएन। इन्टरनेट जडान जाँच गरेर फेरि पठाउनुहोस्।",
      errRate: "छोटो समयमा धेरै प्रश्न आए। करिब {s} सेकेन्ड पर्खेर फेरि पठाउनुहोस्।",
      errRateNoTime: "छोटो समयमा धेरै प्रश्न आए। केही बेर पर्खेर फेरि पठाउनुहोस्।",
      errDaily: "आजका लागि प्रश्नको सीमा पुगिसक्यो। भोलि फेरि प्रयास गर्नुहोस् वा फोन गर्नुहोस्।",
      errBusy: "अहिले सेवा उपलब्ध छैन। केही बेरपछि फेरि प्रयास गर्नुहोस्।",
      errTooLong: "प्रश्न धेरै लामो भयो। छोटो बनाउनुहोस्।",
      errBad: "यो प्रश्न पठाउन सकिएन। कृपया जाँच गर्नुहोस्।",
      errServer: "त्रुटि भयो। केही बेरपछि फेरि प्रयास गर्नुहोस्।",
      errStream: "उत्तर बीचमै रोकियो। कृपया प्रश्न फेरि पठाउनुहोस्।",
    },
    id: {
      launch: "Tanya kami",
      title: "Asisten AI {town}",
      titleNoTown: "Asisten AI",
      intro:
        "Halo. Saya menjawab pertanyaan tentang prosedur dan kehidupan sehari-hari berdasarkan dokumen publik {town}.",
      introNoTown:
        "Halo. Saya menjawab pertanyaan tentang prosedur dan kehidupan sehari-hari berdasarkan dokumen publik kota.",
      examples: "Contoh pertanyaan",
      placeholder: "Ketik pertanyaan Anda",
      hint: "Tekan Enter untuk mengirim, Shift+Enter untuk baris baru.",
      send: "Kirim",
      close: "Tutup",
      language: "Bahasa",
      newChat: "Percakapan baru",
      you: "Pertanyaan Anda",
      bot: "Jawaban",
      thinking: "Mencari jawaban…",
      sources: "Sumber",
      related: "Halaman yang mungkin membantu",
      newTab: "(terbuka di tab baru)",
      helpful: "Apakah jawaban ini membantu?",
      yes: "Membantu",
      no: "Tidak membantu",
      thanks: "Terima kasih atas masukan Anda.",
      commentLabel: "Apa yang kurang? (opsional; jangan tulis data pribadi)",
      commentSend: "Kirim",
      feedbackError: "Masukan Anda tidak dapat dikirim.",
      contact: "Kontak",
      phone: "Telp.",
      townPhone: "Pertanyaan lewat telepon",
      disclaimer:
        "Jawaban dibuat otomatis dari dokumen publik kota. Selalu periksa sumbernya, dan telepon kami jika Anda ragu. Jangan masukkan data pribadi seperti nama, alamat, atau nomor telepon.",
      original: "Teks asli bahasa Jepang",
      errNetwork: "Tidak dapat terhubung ke server. Periksa koneksi Anda, lalu kirim lagi.",
      errRate: "Terlalu banyak pertanyaan dalam waktu singkat. Tunggu sekitar {s} detik, lalu kirim lagi.",
      errRateNoTime: "Terlalu banyak pertanyaan dalam waktu singkat. Tunggu sebentar, lalu kirim lagi.",
      errDaily: "Batas pertanyaan hari ini sudah tercapai. Silakan coba lagi besok atau telepon kami.",
      errBusy: "Layanan sedang tidak tersedia. Silakan coba lagi nanti.",
      errTooLong: "Pertanyaan Anda terlalu panjang. Mohon persingkat.",
      errBad: "Pertanyaan ini tidak dapat dikirim. Mohon periksa isinya.",
      errServer: "Terjadi kesalahan. Silakan coba lagi nanti.",
      errStream: "Jawaban terputus. Silakan kirim pertanyaan Anda lagi.",
    },
  };

  // hand-off to staff (the 職員に問い合わせる button, its card and the message form)
  var HO = {
    ja: {
      hoButton: "職員に問い合わせる",
      hoOpen: "{dept}は今、受付時間内です（{until}まで）。お電話でお問い合わせいただけます。",
      hoOpenNoTime: "{dept}は今、受付時間内です。お電話でお問い合わせいただけます。",
      hoClosed: "ただいま受付時間外です。{dept}の次の受付開始は{when}です。",
      hoClosedNever: "ただいま受付時間外です。",
      hoLeave: "メッセージを残すと、職員が受付時間内に返事をします。",
      hoWrite: "メッセージを送る",
      hoMsg: "お問い合わせ内容",
      hoContact: "返信先のメールアドレスまたは電話番号（任意）",
      hoConsent: "内容と連絡先を、返事のために職員が保存することに同意します",
      hoNotice:
        "送った内容は町の職員が読み、返事はこの画面に表示されます。保存期間は{days}日で、その後は削除されます。同意しない場合、連絡先と内容に含まれる個人情報は伏せた形で保存されます。",
      hoSend: "送信する",
      hoCancel: "やめる",
      hoSent: "メッセージを受け付けました（受付番号 {id}）。職員から返事があると、ここに表示されます。",
      hoWaiting: "職員の返事を待っています。",
      hoReply: "職員からの返事",
      hoEmpty: "お問い合わせ内容を入力してください。",
      hoFailed: "送信できませんでした。しばらくしてから、もう一度お試しください。",
    },
    "ja-easy": {
      hoButton: "役場の 人に 聞く",
      hoOpen: "{dept}は 今 開いて います（{until}まで）。電話で 聞く ことが できます。",
      hoOpenNoTime: "{dept}は 今 開いて います。電話で 聞く ことが できます。",
      hoClosed: "今は 役場が 休みの 時間です。{dept}が 次に 開くのは {when}です。",
      hoClosedNever: "今は 役場が 休みの 時間です。",
      hoLeave: "メッセージを 送ると、役場の 人が あとで 答えます。",
      hoWrite: "メッセージを 送る",
      hoMsg: "聞きたい こと",
      hoContact: "返事を もらう メールアドレスか 電話番号（書かなくても いいです）",
      hoConsent: "書いた ことと 連絡先を、返事の ために 役場が 残す ことに 同意します",
      hoNotice:
        "送った ことは 役場の 人が 読みます。返事は この 画面に 出ます。{days}日 たつと 消します。同意 しない ときは、連絡先や 名前などを かくして 残します。",
      hoSend: "送る",
      hoCancel: "やめる",
      hoSent: "メッセージを 受け取りました（番号 {id}）。役場の 人の 返事は ここに 出ます。",
      hoWaiting: "役場の 人の 返事を 待って います。",
      hoReply: "役場の 人からの 返事",
      hoEmpty: "聞きたい ことを 書いて ください。",
      hoFailed: "送る ことが できませんでした。あとで もう一度 送って ください。",
    },
    en: {
      hoButton: "Contact town staff",
      hoOpen: "{dept} is open now (until {until}). You can call them.",
      hoOpenNoTime: "{dept} is open now. You can call them.",
      hoClosed: "The office is closed now. {dept} opens again on {when}.",
      hoClosedNever: "The office is closed now.",
      hoLeave: "Leave a message and staff will reply during office hours.",
      hoWrite: "Send a message",
      hoMsg: "Your message",
      hoContact: "E-mail or phone number for the reply (optional)",
      hoConsent: "I agree that town staff keep my message and contact details to reply to me",
      hoNotice:
        "Town staff read your message; the reply appears in this window. It is kept for {days} days, then deleted. Without your agreement, your contact details and any personal information in the message are stored masked.",
      hoSend: "Send",
      hoCancel: "Cancel",
      hoSent: "Your message has been received (ticket {id}). The staff reply will appear here.",
      hoWaiting: "Waiting for a reply from staff.",
      hoReply: "Reply from town staff",
      hoEmpty: "Please write your message.",
      hoFailed: "Your message could not be sent. Please try again later.",
    },
    "zh-Hans": {
      hoButton: "联系工作人员",
      hoOpen: "{dept}现在正在办公（至{until}）。您可以打电话咨询。",
      hoOpenNoTime: "{dept}现在正在办公。您可以打电话咨询。",
      hoClosed: "现在是非办公时间。{dept}下次开始办公的时间是{when}。",
      hoClosedNever: "现在是非办公时间。",
      hoLeave: "请留言，工作人员会在办公时间内回复。",
      hoWrite: "留言",
      hoMsg: "咨询内容",
      hoContact: "用于回复的电子邮箱或电话号码（选填）",
      hoConsent: "我同意工作人员为回复而保存我的留言和联系方式",
      hoNotice:
        "您的留言将由町政府工作人员阅读，回复会显示在此窗口中。留言保存{days}天后删除。如不同意，联系方式和留言中的个人信息将以隐去的形式保存。",
      hoSend: "发送",
      hoCancel: "取消",
      hoSent: "已收到您的留言（受理编号 {id}）。工作人员的回复将显示在这里。",
      hoWaiting: "正在等待工作人员回复。",
      hoReply: "工作人员的回复",
      hoEmpty: "请输入咨询内容。",
      hoFailed: "发送失败。请稍后再试。",
    },
    "zh-Hant": {
      hoButton: "聯絡工作人員",
      hoOpen: "{dept}現在正在辦公（至{until}）。您可以打電話詢問。",
      hoOpenNoTime: "{dept}現在正在辦公。您可以打電話詢問。",
      hoClosed: "現在是非辦公時間。{dept}下次開始辦公的時間是{when}。",
      hoClosedNever: "現在是非辦公時間。",
      hoLeave: "請留言，工作人員會在辦公時間內回覆。",
      hoWrite: "留言",
      hoMsg: "詢問內容",
      hoContact: "用於回覆的電子郵件或電話號碼（選填）",
      hoConsent: "我同意工作人員為回覆而保存我的留言和聯絡方式",
      hoNotice:
        "您的留言將由町公所工作人員閱讀，回覆會顯示在此視窗中。留言保存{days}天後刪除。如不同意，聯絡方式和留言中的個人資料將以隱藏的形式保存。",
      hoSend: "送出",
      hoCancel: "取消",
      hoSent: "已收到您的留言（受理編號 {id}）。工作人員的回覆將顯示在這裡。",
      hoWaiting: "正在等待工作人員回覆。",
      hoReply: "工作人員的回覆",
      hoEmpty: "請輸入詢問內容。",
      hoFailed: "送出失敗。請稍後再試。",
    },
    ko: {
      hoButton: "직원에게 문의하기",
      hoOpen: "{dept}은(는) 지금 업무 중입니다({until}까지). 전화로 문의하실 수 있습니다.",
      hoOpenNoTime: "{dept}은(는) 지금 업무 중입니다. 전화로 문의하실 수 있습니다.",
      hoClosed: "지금은 업무 시간이 아닙니다. {dept}의 다음 업무 시작은 {when}입니다.",
      hoClosedNever: "지금은 업무 시간이 아닙니다.",
      hoLeave: "메시지를 남기시면 직원이 업무 시간에 답변해 드립니다.",
      hoWrite: "메시지 보내기",
      hoMsg: "문의 내용",
      hoContact: "답변받을 이메일 또는 전화번호(선택)",
      hoConsent: "답변을 위해 직원이 문의 내용과 연락처를 보관하는 데 동의합니다",
      hoNotice:
        "보내신 내용은 읍사무소 직원이 읽으며, 답변은 이 창에 표시됩니다. {days}일 동안 보관한 후 삭제합니다. 동의하지 않으시면 연락처와 내용 속 개인정보는 가려진 상태로 보관됩니다.",
      hoSend: "보내기",
      hoCancel: "취소",
      hoSent: "메시지가 접수되었습니다(접수 번호 {id}). 직원의 답변이 여기에 표시됩니다.",
      hoWaiting: "직원의 답변을 기다리고 있습니다.",
      hoReply: "직원의 답변",
      hoEmpty: "문의 내용을 입력해 주세요.",
      hoFailed: "보내지 못했습니다. 잠시 후 다시 시도해 주세요.",
    },
    vi: {
      hoButton: "Liên hệ nhân viên",
      hoOpen: "{dept} đang làm việc (đến {until}). Bạn có thể gọi điện.",
      hoOpenNoTime: "{dept} đang làm việc. Bạn có thể gọi điện.",
      hoClosed: "Hiện đang ngoài giờ làm việc. {dept} sẽ mở cửa lại vào {when}.",
      hoClosedNever: "Hiện đang ngoài giờ làm việc.",
      hoLeave: "Hãy để lại tin nhắn, nhân viên sẽ trả lời trong giờ làm việc.",
      hoWrite: "Gửi tin nhắn",
      hoMsg: "Nội dung cần hỏi",
      hoContact: "Email hoặc số điện thoại để nhận trả lời (không bắt buộc)",
      hoConsent: "Tôi đồng ý để nhân viên lưu tin nhắn và thông tin liên lạc của tôi để trả lời",
      hoNotice:
        "Nhân viên tòa thị chính sẽ đọc tin nhắn của bạn; câu trả lời sẽ hiện trong cửa sổ này. Tin nhắn được lưu {days} ngày rồi bị xóa. Nếu bạn không đồng ý, thông tin liên lạc và thông tin cá nhân trong tin nhắn sẽ được lưu ở dạng che đi.",
      hoSend: "Gửi",
      hoCancel: "Hủy",
      hoSent: "Đã nhận tin nhắn của bạn (số tiếp nhận {id}). Câu trả lời của nhân viên sẽ hiện ở đây.",
      hoWaiting: "Đang chờ nhân viên trả lời.",
      hoReply: "Trả lời của nhân viên",
      hoEmpty: "Vui lòng nhập nội dung.",
      hoFailed: "Không gửi được. Vui lòng thử lại sau.",
    },
    pt: {
      hoButton: "Falar com um funcionário",
      hoOpen: "{dept} está aberto agora (até {until}). Você pode ligar.",
      hoOpenNoTime: "{dept} está aberto agora. Você pode ligar.",
      hoClosed: "Fora do horário de atendimento. {dept} abre novamente em {when}.",
      hoClosedNever: "Fora do horário de atendimento.",
      hoLeave: "Deixe uma mensagem e um funcionário responderá no horário de atendimento.",
      hoWrite: "Enviar mensagem",
      hoMsg: "Sua mensagem",
      hoContact: "E-mail ou telefone para a resposta (opcional)",
      hoConsent: "Concordo que os funcionários guardem minha mensagem e meu contato para me responder",
      hoNotice:
        "Os funcionários da prefeitura leem sua mensagem; a resposta aparece nesta janela. Ela é guardada por {days} dias e depois apagada. Sem a sua concordância, o contato e os dados pessoais da mensagem são guardados ocultos.",
      hoSend: "Enviar",
      hoCancel: "Cancelar",
      hoSent: "Recebemos sua mensagem (protocolo {id}). A resposta dos funcionários aparecerá aqui.",
      hoWaiting: "Aguardando a resposta dos funcionários.",
      hoReply: "Resposta dos funcionários",
      hoEmpty: "Escreva sua mensagem.",
      hoFailed: "Não foi possível enviar. Tente novamente mais tarde.",
    },
    es: {
      hoButton: "Contactar al personal",
      hoOpen: "{dept} está abierto ahora (hasta las {until}). Puede llamar por teléfono.",
      hoOpenNoTime: "{dept} está abierto ahora. Puede llamar por teléfono.",
      hoClosed: "Ahora está fuera del horario de atención. {dept} vuelve a abrir el {when}.",
      hoClosedNever: "Ahora está fuera del horario de atención.",
      hoLeave: "Deje un mensaje y el personal le responderá en horario de atención.",
      hoWrite: "Enviar un mensaje",
      hoMsg: "Su mensaje",
      hoContact: "Correo electrónico o teléfono para la respuesta (opcional)",
      hoConsent: "Acepto que el personal guarde mi mensaje y mis datos de contacto para responderme",
      hoNotice:
        "El personal del ayuntamiento lee su mensaje; la respuesta aparece en esta ventana. Se guarda {days} días y después se borra. Si no lo acepta, sus datos de contacto y los datos personales del mensaje se guardan ocultos.",
      hoSend: "Enviar",
      hoCancel: "Cancelar",
      hoSent: "Hemos recibido su mensaje (número {id}). La respuesta del personal aparecerá aquí.",
      hoWaiting: "Esperando la respuesta del personal.",
      hoReply: "Respuesta del personal",
      hoEmpty: "Escriba su mensaje.",
      hoFailed: "No se pudo enviar. Inténtelo de nuevo más tarde.",
    },
    tl: {
      hoButton: "Makipag-ugnayan sa kawani",
      hoOpen: "Bukas ngayon ang {dept} (hanggang {until}). Maaari kayong tumawag.",
      hoOpenNoTime: "Bukas ngayon ang {dept}. Maaari kayong tumawag.",
      hoClosed: "Sarado ang opisina ngayon. Magbubukas muli ang {dept} sa {when}.",
      hoClosedNever: "Sarado ang opisina ngayon.",
      hoLeave: "Mag-iwan ng mensahe at sasagot ang kawani sa oras ng opisina.",
      hoWrite: "Magpadala ng mensahe",
      hoMsg: "Ang inyong mensahe",
      hoContact: "Email o numero ng telepono para sa sagot (opsyonal)",
      hoConsent: "Pumapayag akong itago ng kawani ang aking mensahe at contact para masagot ako",
      hoNotice:
        "Babasahin ng kawani ng town office ang inyong mensahe; lalabas ang sagot sa window na ito. Itatago ito nang {days} araw at pagkatapos ay buburahin. Kung hindi kayo pumayag, naka-mask ang inyong contact at ang personal na impormasyon sa mensahe kapag itinago.",
      hoSend: "Ipadala",
      hoCancel: "Kanselahin",
      hoSent: "Natanggap na ang inyong mensahe (numero {id}). Lalabas dito ang sagot ng kawani.",
      hoWaiting: "Naghihintay ng sagot mula sa kawani.",
      hoReply: "Sagot ng kawani",
      hoEmpty: "Pakisulat ang inyong mensahe.",
      hoFailed: "Hindi naipadala. Pakisubukang muli mamaya.",
    },
    ne: {
      hoButton: "कर्मचारीलाई सोध्नुहोस्",
      hoOpen: "{dept} अहिले खुला छ ({until} सम्म)। तपाईं फोन गर्न सक्नुहुन्छ।",
      hoOpenNoTime: "{dept} अहिले खुला छ। तपाईं फोन गर्न सक्नुहुन्छ।",
      hoClosed: "अहिले कार्यालय बन्द छ। {dept} फेरि {when} मा खुल्छ।",
      hoClosedNever: "अहिले कार्यालय बन्द छ।",
      hoLeave: "सन्देश छोड्नुहोस्, कर्मचारीले कार्यालय समयमा जवाफ दिनेछन्।",
      hoWrite: "सन्देश पठाउनुहोस्",
      hoMsg: "तपाईंको सन्देश",
      hoContact: "जवाफका लागि इमेल वा फोन नम्बर (ऐच्छिक)",
      hoConsent: "जवाफ दिनका लागि कर्मचारीले मेरो सन्देश र सम्पर्क विवरण राख्न म सहमत छु",
      hoNotice:
        "तपाईंको सन्देश नगर कार्यालयका कर्मचारीले पढ्छन्; जवाफ यही विन्डोमा देखिन्छ। यो {days} दिनसम्म राखिन्छ, त्यसपछि मेटाइन्छ। सहमति नदिए, सम्पर्क विवरण र सन्देशमा भएका व्यक्तिगत जानकारी लुकाएर राखिन्छ।",
      hoSend: "पठाउनुहोस्",
      hoCancel: "रद्द गर्नुहोस्",
      hoSent: "तपाईंको सन्देश प्राप्त भयो (नम्बर {id})। कर्मचारीको जवाफ यहाँ देखिनेछ।",
      hoWaiting: "कर्मचारीको जवाफ पर्खिँदै।",
      hoReply: "कर्मचारीको जवाफ",
      hoEmpty: "कृपया आफ्नो सन्देश लेख्नुहोस्।",
      hoFailed: "पठाउन सकिएन। कृपया पछि फेरि प्रयास गर्नुहोस्।",
    },
    id: {
      hoButton: "Hubungi petugas",
      hoOpen: "{dept} sedang buka (sampai {until}). Anda bisa menelepon.",
      hoOpenNoTime: "{dept} sedang buka. Anda bisa menelepon.",
      hoClosed: "Saat ini di luar jam layanan. {dept} buka kembali pada {when}.",
      hoClosedNever: "Saat ini di luar jam layanan.",
      hoLeave: "Tinggalkan pesan dan petugas akan membalas pada jam layanan.",
      hoWrite: "Kirim pesan",
      hoMsg: "Pesan Anda",
      hoContact: "Email atau nomor telepon untuk balasan (opsional)",
      hoConsent: "Saya setuju petugas menyimpan pesan dan kontak saya untuk membalas",
      hoNotice:
        "Pesan Anda dibaca oleh petugas kantor kota; balasan muncul di jendela ini. Pesan disimpan selama {days} hari, lalu dihapus. Tanpa persetujuan Anda, kontak dan data pribadi dalam pesan disimpan dalam bentuk disamarkan.",
      hoSend: "Kirim",
      hoCancel: "Batal",
      hoSent: "Pesan Anda sudah diterima (nomor {id}). Balasan petugas akan muncul di sini.",
      hoWaiting: "Menunggu balasan petugas.",
      hoReply: "Balasan petugas",
      hoEmpty: "Silakan tulis pesan Anda.",
      hoFailed: "Pesan tidak dapat dikirim. Silakan coba lagi nanti.",
    },
  };
  Object.keys(HO).forEach(function (lang) {
    Object.keys(HO[lang]).forEach(function (k) {
      T[lang][k] = HO[lang][k];
    });
  });

  // ---------------------------------------------------------------- the script tag's settings
  // A page that carries the tag twice gets one widget, set up from the first tag in
  // document order: with async tags either copy may run first, so currentScript
  // would make the result depend on which one loaded sooner.
  var script =
    (function () {
      var all = document.querySelectorAll("script[src]");
      for (var i = 0; i < all.length; i++) {
        if (/(^|\/)widget\.js(\?|#|$)/.test(all[i].getAttribute("src") || "")) return all[i];
      }
      return null;
    })() || document.currentScript;
  var ds = (script && script.dataset) || {};

  function serviceBase() {
    var raw = (ds.api || "").trim();
    try {
      if (raw) return new URL(raw, location.href).href.replace(/\/+$/, "");
      // default: the folder the script came from (normally the server's origin)
      if (script && script.src) return new URL(".", script.src).href.replace(/\/+$/, "");
    } catch (e) {
      /* fall through */
    }
    return location.origin;
  }
  // data-town="minami": a service shared by several towns answers for that town alone,
  // under /t/minami/ (a name that is no town id is ignored: the service's own town)
  function apiBase() {
    var base = serviceBase();
    var town = (ds.town || "").trim();
    if (/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(town) && !/\/t\/[^/]+$/.test(base)) {
      return base + "/t/" + town;
    }
    return base;
  }
  var API = apiBase();
  var POSITION = ds.position === "left" ? "left" : "right";
  var ACCENT = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(ds.color || "") ? ds.color : "#0b6e4f";
  var FIXED_TITLE = (ds.title || "").trim();
  var MAX_CHARS = 2000; // the API's default answer.max_question_chars
  var MAX_KEPT = 40; // messages kept in sessionStorage across page loads
  var STORE_KEY = "madoguchi-widget:" + API;

  function canonLang(code) {
    if (!code) return null;
    var c = String(code).trim().replace(/_/g, "-").toLowerCase();
    for (var i = 0; i < LANGS.length; i++) if (LANGS[i].toLowerCase() === c) return LANGS[i];
    if (c === "easy-ja" || c === "ja-yasashii" || c === "やさしい日本語") return "ja-easy";
    if (/^zh-(hant|tw|hk|mo)/.test(c)) return "zh-Hant";
    if (/^zh/.test(c)) return "zh-Hans";
    if (c === "fil") return "tl";
    var base = c.split("-")[0];
    return LANGS.indexOf(base) >= 0 ? base : null;
  }

  function browserLang() {
    var list = navigator.languages || [navigator.language];
    for (var i = 0; i < list.length; i++) {
      var l = canonLang(list[i]);
      if (l) return l;
    }
    return null;
  }

  // ---------------------------------------------------------------- state (sessionStorage)
  function load() {
    try {
      var s = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (s && typeof s === "object") return s;
    } catch (e) {
      /* storage blocked or corrupt: start fresh */
    }
    return {};
  }
  var saved = load();
  var state = {
    open: saved.open === true,
    lang: canonLang(saved.lang) || canonLang(ds.lang) || browserLang() || "ja",
    cid: typeof saved.cid === "string" ? saved.cid : null,
    msgs: Array.isArray(saved.msgs) ? saved.msgs.slice(-MAX_KEPT) : [],
  };
  var config = null; // GET /api/v1/config, once
  var pending = false;

  function save() {
    try {
      sessionStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          open: state.open,
          lang: state.lang,
          cid: state.cid,
          // error notices are for the moment they happen, not for the next page
          msgs: state.msgs
            .filter(function (m) {
              return m.role !== "error" && m.role !== "handoff";
            })
            .slice(-MAX_KEPT),
        })
      );
    } catch (e) {
      /* private mode or quota: the widget still works, it just forgets */
    }
  }

  // "label：value" in Japanese and Chinese, "label: value" elsewhere
  function colon(lang) {
    return /^(ja|zh)/.test(lang || state.lang) ? "：" : ": ";
  }

  // a label in the menu's language (the widget's own chrome)
  function t(key, vars) {
    return tr(state.lang, key, vars);
  }

  // a label in a given language: Japanese for Japanese, English for a language without labels
  function tr(lang, key, vars) {
    var table = T[lang] || (/^ja/.test(lang) ? T.ja : T.en);
    var s = table[key] || T.en[key] || key;
    if (vars) {
      Object.keys(vars).forEach(function (k) {
        s = s.split("{" + k + "}").join(String(vars[k]));
      });
    }
    return s;
  }

  // The language of an answer: the server answers in the question's language when it is
  // clear (an English question in a widget set to 日本語), so the labels attached to an
  // answer (sources, contact, feedback, the original) follow the answer, not the menu.
  function answerLang(m) {
    if (!m || typeof m.lang !== "string" || !m.lang) return state.lang;
    var c = canonLang(m.lang);
    if (c) return c;
    return /^ja/i.test(m.lang) ? "ja" : "en";
  }

  // ---------------------------------------------------------------- DOM helpers (no innerHTML)
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "class") node.className = v;
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  // our own simple icons on a 24×24 grid
  var ICONS = {
    chat: { fill: "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" },
    close: { stroke: "M6 6l12 12M18 6L6 18" },
    send: { fill: "M3 20.5l18.5-8.5L3 3.5v6.6l12.5 1.9L3 13.9z" },
    restart: { stroke: "M4.5 12a7.5 7.5 0 1 0 2.2-5.3M4.5 3.5v3.8h3.8" },
    phone: {
      fill: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
    },
    globe: {
      stroke:
        "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM3 12h18M12 3c2.6 2.6 3.6 5.6 3.6 9s-1 6.4-3.6 9M12 3c-2.6 2.6-3.6 5.6-3.6 9s1 6.4 3.6 9",
    },
    thumb: {
      fill: "M2 10h4v11H2zM8 10l4.2-7.2c1.4 0 2.5 1.1 2.2 2.6L13.8 9H20a2 2 0 0 1 2 2.3l-1.4 7.9A2.2 2.2 0 0 1 18.4 21H8z",
    },
  };
  function icon(name, flip) {
    var spec = ICONS[name];
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "ic");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", spec.fill || spec.stroke);
    if (spec.stroke) {
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
    } else {
      path.setAttribute("fill", "currentColor");
    }
    if (flip) path.setAttribute("transform", "rotate(180 12 12)");
    svg.appendChild(path);
    return svg;
  }

  /** A URL that may become a link: absolute http(s) only (no javascript:, data:, relative). */
  function safeUrl(u) {
    if (typeof u !== "string" || !u) return null;
    try {
      var parsed = new URL(u);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  /**
   * A tap-to-call link for a Japanese phone number as documents write it ("01234-5-1101",
   * full-width digits, ー or － as dashes, "(01234) 5-1101"): the international form
   * (tel:+81-1234-5-1101), which also works on a phone brought from abroad; free-dial and
   * navigation numbers (0120, 0800, 0570 …), often unreachable that way, stay domestic.
   */
  function telHref(phone) {
    var s = String(phone).replace(/[０-９＋]/g, function (d) {
      return String.fromCharCode(d.charCodeAt(0) - 0xfee0);
    });
    s = s.replace(/[‐‑–—−ー－]/g, "-").replace(/[()（）\s.]+/g, "-");
    s = s.replace(/[^0-9+-]/g, "").replace(/-+/g, "-").replace(/^-|-$/g, "");
    var digits = s.replace(/\D/g, "");
    if (digits.length < 6 || digits.length > 15) return null;
    if (s.charAt(0) === "+") return "tel:" + s;
    if (/^0(120|800|570|180|990)/.test(digits)) return "tel:" + digits;
    if (/^0[1-9]/.test(digits)) return "tel:+81-" + s.slice(1);
    return "tel:" + digits;
  }

  function extLink(href, label, lang) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, [
      label,
      el("span", { class: "sr", text: tr(lang || state.lang, "newTab") }),
    ]);
  }

  // URLs and Japanese phone numbers inside answer text become links; the rest stays text.
  var LINKABLE = new RegExp(
    "(https?://[^\\s<>\"'「」『』（）()、。，！？]+)|" +
      "((?:\\+81[-\\s]?|[0０])[0-9０-９]{1,4}[-‐‑–−ー－][0-9０-９]{1,4}[-‐‑–−ー－][0-9０-９]{3,4})(?![0-9０-９])",
    "g"
  );
  function richText(text, lang) {
    var frag = document.createDocumentFragment();
    var s = String(text || "");
    var last = 0;
    var m;
    LINKABLE.lastIndex = 0;
    while ((m = LINKABLE.exec(s))) {
      var raw = m[0];
      var trail = "";
      if (m[1]) {
        var cut = raw.match(/[.,;:!?\]]+$/);
        if (cut) {
          trail = cut[0];
          raw = raw.slice(0, -trail.length);
        }
      }
      var href = m[1] ? safeUrl(raw) : telHref(raw);
      frag.appendChild(document.createTextNode(s.slice(last, m.index)));
      if (href && m[1]) frag.appendChild(extLink(href, raw, lang));
      else if (href) frag.appendChild(el("a", { href: href, text: raw }));
      else frag.appendChild(document.createTextNode(raw));
      if (trail) frag.appendChild(document.createTextNode(trail));
      last = m.index + m[0].length;
    }
    frag.appendChild(document.createTextNode(s.slice(last)));
    return frag;
  }

  // ---------------------------------------------------------------- styles (inside the shadow)
  var CSS = [
    // the host element: reset whatever the page says about it (important rules of the
    // shadow's own context beat the page's important rules), then float above the page
    ":host{all:initial!important;display:block!important;position:fixed!important;",
    "z-index:2147483647!important;bottom:0!important;" + POSITION + ":0!important;",
    "width:0!important;height:0!important;overflow:visible!important;visibility:visible!important;",
    "opacity:1!important;transform:none!important;filter:none!important;contain:none!important;",
    "pointer-events:auto!important;clip-path:none!important;direction:ltr!important;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    "[hidden]{display:none!important;}",
    ".w{all:initial;display:block;direction:ltr;--acc:" + ACCENT + ";font-family:system-ui,-apple-system,'Segoe UI',",
    "'Hiragino Sans','Hiragino Kaku Gothic ProN','Noto Sans JP','Noto Sans CJK JP','Yu Gothic UI',",
    "Meiryo,'Noto Sans Devanagari','Noto Sans',Roboto,Arial,sans-serif;font-size:15px;",
    "line-height:1.6;color:#1f2328;-webkit-text-size-adjust:100%;text-size-adjust:100%;}",
    ".ic{width:22px;height:22px;flex:none;display:block;}",
    ".sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;",
    "clip:rect(0 0 0 0);white-space:nowrap;border:0;}",
    "button,select,textarea,input{font:inherit;color:inherit;letter-spacing:normal;}",
    "button{cursor:pointer;}",
    ":focus-visible{outline:3px solid #f0a500;outline-offset:2px;}",
    // the launcher
    ".launch{position:fixed;bottom:20px;" + POSITION + ":20px;display:flex;align-items:center;",
    "gap:8px;min-height:52px;max-width:calc(100vw - 40px);padding:0 20px 0 16px;border:0;",
    "border-radius:26px;background:var(--acc);color:#fff;font-size:16px;font-weight:700;",
    "box-shadow:0 4px 14px rgba(0,0,0,.28);}",
    ".launch:hover{filter:brightness(1.08);}",
    ".launch span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;}",
    // the panel
    ".panel{position:fixed;bottom:88px;" + POSITION + ":20px;width:400px;",
    "height:min(660px,calc(100vh - 108px));display:flex;flex-direction:column;background:#fff;",
    "border-radius:14px;overflow:hidden;box-shadow:0 10px 40px rgba(0,0,0,.3);",
    "border:1px solid rgba(0,0,0,.08);animation:pop .16s ease-out;}",
    "@keyframes pop{from{opacity:0;transform:translateY(12px);}to{opacity:1;transform:none;}}",
    "@media (prefers-reduced-motion:reduce){.panel{animation:none;}}",
    ".head{background:var(--acc);color:#fff;padding:10px 8px 8px 16px;flex:none;}",
    ".row{display:flex;align-items:center;gap:4px;}",
    ".title{flex:1;min-width:0;margin:0;font-size:17px;font-weight:700;line-height:1.35;",
    "overflow-wrap:anywhere;}",
    ".hbtn{display:flex;align-items:center;justify-content:center;width:44px;height:44px;",
    "border:0;border-radius:10px;background:transparent;color:#fff;flex:none;}",
    ".hbtn:hover{background:rgba(255,255,255,.18);}",
    ".langrow{display:flex;align-items:center;gap:6px;margin-top:4px;font-size:13px;}",
    ".langrow .ic{width:18px;height:18px;}",
    ".langrow select{appearance:auto;min-height:32px;max-width:100%;padding:2px 6px;",
    "border:1px solid rgba(255,255,255,.7);border-radius:8px;background:#fff;color:#1f2328;",
    "font-size:14px;}",
    ".body{position:relative;flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;",
    "padding:14px 14px 6px;background:#f6f7f8;}",
    ".intro{margin:0 0 12px;}",
    ".intro p{margin:0 0 8px;}",
    ".note{font-size:13px;line-height:1.55;color:#3d444d;background:#fff8e1;",
    "border:1px solid #f0d98a;border-radius:10px;padding:8px 10px;}",
    ".exh{font-size:13px;font-weight:700;color:#3d444d;margin:12px 0 6px;}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px;margin:0;padding:0;list-style:none;}",
    ".chip{display:block;text-align:left;min-height:36px;padding:6px 12px;",
    "border:1px solid var(--acc);border-radius:18px;background:#fff;color:var(--acc);",
    "font-size:14px;line-height:1.4;}",
    ".chip:hover{background:#eef6f2;}",
    ".log{display:flex;flex-direction:column;gap:10px;}",
    ".msg{max-width:92%;padding:10px 12px;border-radius:14px;overflow-wrap:anywhere;}",
    ".msg p{margin:0;}",
    ".user{align-self:flex-end;background:var(--acc);color:#fff;border-bottom-right-radius:4px;",
    "white-space:pre-wrap;}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #d8dee4;",
    "border-bottom-left-radius:4px;}",
    ".bot.refused{border-color:#e3b341;background:#fffbea;}",
    ".text{white-space:pre-wrap;}",
    ".bot a{color:#0b57a4;text-decoration:underline;}",
    // a phone number is read and dialled whole: never broken over two lines
    "a[href^='tel:']{white-space:nowrap;}",
    ".err{align-self:stretch;background:#fff1f0;border:1px solid #f1aeb5;color:#8a1f17;",
    "font-size:14px;}",
    ".thinking{align-self:flex-start;color:#57606a;font-size:14px;padding:6px 4px;}",
    ".follow{margin-top:10px;padding-top:8px;border-top:1px dashed #d8dee4;}",
    ".follow p{font-weight:700;margin-bottom:6px;}",
    ".contact{margin-top:8px;font-size:14px;}",
    ".call{margin:10px 0 0;}",
    ".bot a.callb{display:inline-flex;align-items:center;gap:8px;min-height:44px;padding:6px 16px;",
    "border-radius:22px;background:var(--acc);color:#fff;font-weight:700;text-decoration:none;",
    "max-width:100%;overflow-wrap:anywhere;}",
    ".callb .ic{width:20px;height:20px;}",
    ".src{margin-top:10px;padding-top:8px;border-top:1px solid #eaeef2;font-size:13px;}",
    ".src h3{margin:0 0 4px;font-size:13px;font-weight:700;color:#3d444d;}",
    ".src ol{margin:0;padding-left:20px;}",
    ".src li{margin:2px 0;}",
    ".related{margin-top:10px;padding-top:8px;border-top:1px solid #eaeef2;font-size:13px;}",
    ".related h3{margin:0 0 4px;font-size:13px;font-weight:700;color:#3d444d;}",
    ".related ul{margin:0;padding-left:20px;}",
    ".related li{margin:2px 0;}",
    "details{margin-top:8px;font-size:14px;}",
    "summary{cursor:pointer;color:#0b57a4;}",
    "details .text{margin-top:4px;color:#3d444d;}",
    ".fb{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:10px;",
    "font-size:13px;color:#57606a;}",
    ".fb .q{margin-right:auto;}",
    ".fbtn{display:flex;align-items:center;justify-content:center;width:40px;height:36px;",
    "border:1px solid #d0d7de;border-radius:8px;background:#fff;color:#57606a;}",
    ".fbtn .ic{width:18px;height:18px;}",
    ".fbtn:hover{border-color:var(--acc);color:var(--acc);}",
    ".fbtn[aria-pressed=true]{background:var(--acc);border-color:var(--acc);color:#fff;}",
    ".fbtn:disabled{cursor:default;}",
    ".fbmsg{flex-basis:100%;margin:0;}",
    ".fbmsg:focus{outline:none;}",
    ".cm{flex-basis:100%;display:flex;flex-direction:column;gap:6px;}",
    ".cm label{font-size:13px;}",
    ".cm textarea{min-height:56px;padding:6px 8px;border:1px solid #d0d7de;border-radius:8px;",
    "font-size:16px;resize:vertical;background:#fff;}",
    ".cm button{align-self:flex-end;padding:6px 14px;border:0;border-radius:8px;",
    "background:var(--acc);color:#fff;}",
    // hand-off to staff
    ".langrow{flex-wrap:wrap;row-gap:6px;}",
    ".langrow label{white-space:nowrap;}",
    ".langrow select{min-width:0;flex:0 1 auto;}",
    ".langrow .hom{margin-left:auto;flex:none;min-height:32px;padding:2px 10px;border:1px solid rgba(255,255,255,.8);",
    "border-radius:16px;background:transparent;color:#fff;font-size:13px;white-space:nowrap;}",
    ".langrow .hom:hover{background:rgba(255,255,255,.18);}",
    ".hob{display:inline-flex;align-items:center;gap:6px;min-height:44px;margin-top:10px;padding:6px 14px;",
    "border:1px solid var(--acc);border-radius:22px;background:#fff;color:var(--acc);font-weight:700;",
    "max-width:100%;overflow-wrap:anywhere;text-align:left;}",
    ".hob .ic{width:18px;height:18px;flex:none;}",
    ".hob:hover{background:#eef6f2;}",
    ".ho h3,.staff h3{margin:0 0 6px;font-size:15px;}",
    ".ho p{margin:6px 0 0;}",
    ".hoform{display:flex;flex-direction:column;gap:4px;margin-top:10px;}",
    ".hoform label{font-size:13px;font-weight:700;margin-top:6px;}",
    ".hoform textarea,.hoform input[type=text]{padding:8px 10px;border:1px solid #8c959f;",
    "border-radius:8px;font-size:16px;background:#fff;min-width:0;}",
    ".hoform textarea{resize:vertical;min-height:88px;}",
    ".hoform .consent{display:flex;align-items:flex-start;gap:8px;margin-top:8px;}",
    ".hoform .consent input{width:22px;height:22px;flex:none;margin:0;}",
    ".hoform .consent label{font-weight:400;margin:0;}",
    ".hoform .note{margin-top:6px;}",
    ".hobtns{display:flex;justify-content:flex-end;gap:8px;margin-top:8px;}",
    ".hobtns button{min-height:44px;padding:6px 16px;border-radius:10px;font-size:15px;}",
    ".hosend{border:0;background:var(--acc);color:#fff;font-weight:700;}",
    ".hosend:disabled{opacity:.5;}",
    ".hocancel{border:1px solid #d0d7de;background:#fff;color:#1f2328;}",
    ".hostatus{color:#8a1f17;font-size:14px;}",
    ".hostatus:empty{display:none;}",
    ".ticket{border-color:#9ec5b3;}",
    ".ticket:focus{outline:2px solid var(--acc);}",
    ".howait{color:#57606a;font-size:13px;}",
    ".staff{border-color:var(--acc);border-width:2px;}",
    ".foot{flex:none;border-top:1px solid #d8dee4;background:#fff;padding:8px 10px 6px;}",
    ".compose{display:flex;align-items:flex-end;gap:6px;}",
    ".compose textarea{flex:1;min-width:0;min-height:44px;max-height:132px;resize:none;",
    "padding:10px 12px;border:1px solid #8c959f;border-radius:12px;background:#fff;",
    "font-size:16px;line-height:1.4;}",
    ".compose textarea:focus{border-color:var(--acc);}",
    ".sendb{display:flex;align-items:center;justify-content:center;width:46px;height:44px;",
    "border:0;border-radius:12px;background:var(--acc);color:#fff;flex:none;}",
    ".sendb:disabled{opacity:.5;cursor:default;}",
    ".tel{margin:6px 2px 0;font-size:12px;color:#57606a;text-align:center;}",
    ".tel a{color:#0b57a4;font-weight:700;}",
    // phones and short screens: the panel takes the whole screen
    "@media (max-width:520px),(max-height:540px){",
    ".panel{top:0;bottom:0;left:0;right:0;width:100%;height:100%;border-radius:0;border:0;}",
    ".open .launch{display:none;}",
    ".launch{bottom:16px;" + POSITION + ":16px;}",
    ".msg{max-width:100%;}}",
  ].join("");

  // ---------------------------------------------------------------- building the widget
  var host = document.createElement("madoguchi-widget");
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // not subject to the page's style-src CSP
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", { text: CSS }));
    }
  } else {
    root.appendChild(el("style", { text: CSS }));
  }

  var uid = "mdg" + Math.random().toString(36).slice(2, 8);
  var ui = {};
  ui.wrap = el("div", { class: "w" });
  ui.launch = el("button", {
    type: "button",
    class: "launch",
    "aria-haspopup": "dialog",
    "aria-expanded": "false",
    "aria-controls": uid + "-panel",
  });
  ui.launchText = el("span");
  ui.launch.appendChild(icon("chat"));
  ui.launch.appendChild(ui.launchText);

  ui.title = el("h2", { class: "title", id: uid + "-title" });
  ui.restart = el("button", { type: "button", class: "hbtn" }, [icon("restart")]);
  ui.close = el("button", { type: "button", class: "hbtn" }, [icon("close")]);
  ui.langLabel = el("label", { for: uid + "-lang" });
  ui.langSel = el("select", { id: uid + "-lang" });
  ui.handoff = el("button", { type: "button", class: "hom" });
  ui.head = el("div", { class: "head" }, [
    el("div", { class: "row" }, [ui.title, ui.restart, ui.close]),
    el("div", { class: "langrow" }, [icon("globe"), ui.langLabel, ui.langSel, ui.handoff]),
  ]);

  ui.introText = el("p");
  ui.note = el("p", { class: "note" });
  ui.exh = el("h3", { class: "exh", id: uid + "-ex" });
  ui.chips = el("ul", { class: "chips", "aria-labelledby": uid + "-ex" });
  ui.intro = el("div", { class: "intro" }, [ui.introText, ui.note, ui.exh, ui.chips]);
  ui.log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
  });
  ui.body = el("div", { class: "body" }, [ui.intro, ui.log]);

  ui.input = el("textarea", {
    id: uid + "-q",
    rows: "1",
    maxlength: String(MAX_CHARS),
    "aria-describedby": uid + "-hint",
    enterkeyhint: "send",
    autocomplete: "off",
  });
  ui.inputLabel = el("label", { class: "sr", for: uid + "-q" });
  ui.hint = el("span", { class: "sr", id: uid + "-hint" });
  ui.send = el("button", { type: "button", class: "sendb" }, [icon("send")]);
  ui.tel = el("p", { class: "tel" });
  ui.foot = el("div", { class: "foot" }, [
    el("div", { class: "compose" }, [ui.inputLabel, ui.input, ui.send]),
    ui.hint,
    ui.tel,
  ]);

  ui.panel = el(
    "div",
    {
      class: "panel",
      id: uid + "-panel",
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": uid + "-title",
      hidden: true,
    },
    [ui.head, ui.body, ui.foot]
  );
  ui.wrap.appendChild(ui.panel);
  ui.wrap.appendChild(ui.launch);
  root.appendChild(ui.wrap);

  // ---------------------------------------------------------------- rendering
  function townName() {
    return config && typeof config.town === "string" && config.town.trim() ? config.town.trim() : "";
  }

  function townPhone() {
    return config && typeof config.phone === "string" ? config.phone.trim() : "";
  }

  function allowedLangs() {
    var list = config && Array.isArray(config.languages) ? config.languages : LANGS;
    var out = list.map(canonLang).filter(function (l, i, a) {
      return l && a.indexOf(l) === i;
    });
    return out.length ? out : LANGS;
  }

  // the town's suggested questions in the menu's language when the town gave them (the
  // same order as the Japanese ones), else the Japanese ones
  function suggestionsFor(lang) {
    var own = config && Array.isArray(config.suggestions) ? config.suggestions : [];
    var tr = config && config.suggestions_translated && typeof config.suggestions_translated === "object"
      ? config.suggestions_translated : {};
    var base = String(lang).split("-")[0];
    var pick = Object.prototype.hasOwnProperty.call(tr, lang) ? tr[lang]
      : base !== lang && Object.prototype.hasOwnProperty.call(tr, base) ? tr[base] : null;
    return lang !== "ja" && Array.isArray(pick) && pick.length ? pick : own;
  }

  function renderChrome() {
    var town = townName();
    ui.wrap.setAttribute("lang", HTML_LANG[state.lang] || state.lang);
    ui.launchText.textContent = t("launch");
    ui.title.textContent = FIXED_TITLE || (town ? t("title", { town: town }) : t("titleNoTown"));
    ui.restart.setAttribute("aria-label", t("newChat"));
    ui.restart.setAttribute("title", t("newChat"));
    ui.close.setAttribute("aria-label", t("close"));
    ui.close.setAttribute("title", t("close"));
    ui.langLabel.textContent = t("language");
    ui.handoff.textContent = t("hoButton");
    ui.handoff.hidden = !!config && config.handoff === false; // switched off by the town
    ui.input.setAttribute("placeholder", t("placeholder"));
    ui.inputLabel.textContent = t("placeholder");
    ui.hint.textContent = t("hint");
    ui.send.setAttribute("aria-label", t("send"));
    ui.send.setAttribute("title", t("send"));

    var langs = allowedLangs();
    if (langs.indexOf(state.lang) < 0) state.lang = langs[0];
    while (ui.langSel.firstChild) ui.langSel.removeChild(ui.langSel.firstChild);
    langs.forEach(function (code) {
      var opt = el("option", { value: code, lang: HTML_LANG[code] || code, text: LANG_NAMES[code] });
      if (code === state.lang) opt.selected = true;
      ui.langSel.appendChild(opt);
    });

    ui.introText.textContent = town ? t("intro", { town: town }) : t("introNoTown");
    // the town's own disclaimer is Japanese; other languages get ours, translated
    var own = config && typeof config.disclaimer === "string" ? config.disclaimer.trim() : "";
    ui.note.textContent = state.lang === "ja" && own ? own : t("disclaimer");

    var sugg = suggestionsFor(state.lang);
    sugg = sugg.filter(function (s) {
      return typeof s === "string" && s.trim();
    });
    ui.exh.textContent = t("examples");
    ui.exh.hidden = !sugg.length;
    while (ui.chips.firstChild) ui.chips.removeChild(ui.chips.firstChild);
    sugg.slice(0, 6).forEach(function (s) {
      ui.chips.appendChild(
        el("li", null, [
          el("button", {
            type: "button",
            class: "chip",
            text: s,
            onclick: function () {
              ask(s);
            },
          }),
        ])
      );
    });

    while (ui.tel.firstChild) ui.tel.removeChild(ui.tel.firstChild);
    var phone = townPhone();
    ui.tel.hidden = !phone;
    if (phone) {
      var href = telHref(phone);
      ui.tel.appendChild(document.createTextNode(t("townPhone") + colon()));
      ui.tel.appendChild(href ? el("a", { href: href, text: phone }) : document.createTextNode(phone));
    }
  }

  function renderUser(m) {
    return el("div", { class: "msg user" }, [
      el("span", { class: "sr", text: t("you") + ": " }),
      document.createTextNode(m.text),
    ]);
  }

  function renderError(m) {
    return el("div", { class: "msg err", role: "alert", text: t(m.key, m.vars) });
  }

  // a headed list of documents ({source, title, url}), links vetted by safeUrl
  function docList(cls, tag, docs, id, heading, lang) {
    var list = el(tag);
    docs.forEach(function (c) {
      if (!c || typeof c !== "object") return;
      var label = String(c.title || c.source || "").trim() || String(c.url || "");
      var href = safeUrl(c.url);
      var item = [href ? extLink(href, label, lang) : el("span", { text: label })];
      // a passage of a PDF: the page it is on, so the resident can find it in the file
      var page = Number(c.page);
      if (c.page != null && Number.isInteger(page) && page > 0) {
        item.push(el("span", { class: "page", text: " p. " + page }));
      }
      list.appendChild(el("li", null, item));
    });
    list.setAttribute("aria-labelledby", id);
    return el("div", { class: cls }, [el("h3", { id: id, text: heading }), list]);
  }

  // An answer's text, paragraph by paragraph: a Japanese paragraph inside an answer in
  // another language (the official text shown under the note) is marked lang="ja", so
  // screen readers read it as Japanese and the browser picks Japanese glyphs for it.
  function answerText(text, lang) {
    var box = el("div", { class: "text" });
    var paras = String(text || "").split(/\n{2,}/);
    paras.forEach(function (p, i) {
      var ja = !/^(ja|zh)/.test(lang) && /[\u3040-\u30ff]/.test(p);
      var node = el("span", ja ? { lang: "ja" } : null);
      node.appendChild(richText(p + (i < paras.length - 1 ? "\n\n" : ""), lang));
      box.appendChild(node);
    });
    return box;
  }

  function renderBot(m, index) {
    var L = answerLang(m);
    var box = el("div", { class: "msg bot" + (m.refused ? " refused" : ""), lang: HTML_LANG[L] || L });
    box.appendChild(el("span", { class: "sr", text: tr(L, "bot") + ": " }));
    box.appendChild(answerText(m.answer, L));

    // the Japanese original, unless the answer already shows it (no translation existed)
    var original = typeof m.original === "string" ? m.original.trim() : "";
    if (original && String(m.answer || "").indexOf(original) < 0) {
      var orig = el("div", { class: "text", lang: "ja" });
      orig.appendChild(richText(m.original, L));
      box.appendChild(el("details", null, [el("summary", { text: tr(L, "original") }), orig]));
    }

    if (typeof m.follow_up === "string" && m.follow_up.trim()) {
      // "question\n・option\n・option": the options become buttons that ask them
      var lines = m.follow_up.split(/\n+/);
      var follow = el("div", { class: "follow" });
      var options = [];
      var head = [];
      lines.forEach(function (line) {
        var opt = line.match(/^\s*[・•\-*]\s*(.+)$/);
        if (opt) options.push(opt[1].trim());
        else if (line.trim()) head.push(line.trim());
      });
      follow.appendChild(el("p", { text: head.join(" ") || m.follow_up }));
      if (options.length) {
        var ul = el("ul", { class: "chips" });
        options.forEach(function (o) {
          ul.appendChild(
            el("li", null, [
              el("button", {
                type: "button",
                class: "chip",
                text: o,
                onclick: function () {
                  ask(o);
                },
              }),
            ])
          );
        });
        follow.appendChild(ul);
      }
      box.appendChild(follow);
    }

    var dept = typeof m.department === "string" ? m.department.trim() : "";
    var label = typeof m.department_label === "string" && m.department_label.trim();
    var phone = typeof m.phone === "string" ? m.phone.trim() : "";
    var said = String(m.answer || "");
    if (m.refused) {
      // the refusal's sentence names whom to call; the number is also a button to tap
      var number = phone || townPhone();
      var call = number && telHref(number);
      if (call) {
        box.appendChild(
          el("p", { class: "call" }, [
            el("a", { href: call, class: "callb" }, [icon("phone"), tr(L, "phone") + " " + number]),
          ])
        );
      }
      // ... and the hand-off to staff, when the service offers it
      if (m.handoff && typeof m.handoff === "object") {
        box.appendChild(
          handoffButton(function () {
            openHandoff(dept || m.handoff.department, m.question || lastQuestion(), L);
          })
        );
      }
    } else if ((phone || dept) && !(said.indexOf(phone) >= 0 && said.indexOf(dept) >= 0)) {
      // the answer text may already end with the contact line (answers in other languages)
      var contact = el("p", { class: "contact" }, [
        tr(L, "contact") + colon(L) + (dept ? (label || dept) + " " : ""),
      ]);
      if (phone) {
        var href = telHref(phone);
        contact.appendChild(document.createTextNode(tr(L, "phone") + " "));
        contact.appendChild(href ? el("a", { href: href, text: phone }) : document.createTextNode(phone));
      }
      box.appendChild(contact);
    }

    var cites = Array.isArray(m.citations) ? m.citations : [];
    if (cites.length) {
      box.appendChild(docList("src", "ol", cites.slice(0, 8), uid + "-src" + index, tr(L, "sources"), L));
    }

    // a refusal still offers the closest documents to read, under its own heading
    var related = m.refused && Array.isArray(m.related) ? m.related : [];
    if (related.length) {
      box.appendChild(docList("related", "ul", related.slice(0, 5), uid + "-rel" + index, tr(L, "related"), L));
    }

    if (m.answer_id) box.appendChild(renderFeedback(m));
    return box;
  }

  function renderFeedback(m) {
    var qid = uid + "-fb" + String(m.answer_id).replace(/[^A-Za-z0-9_-]/g, "");
    var wrap = el("div", { class: "fb", role: "group", "aria-labelledby": qid });
    wrap.appendChild(el("span", { class: "q", id: qid, text: tr(answerLang(m), "helpful") }));
    // focusable from script only: it takes the focus when the buttons it replaces go away
    var status = el("p", { class: "fbmsg", role: "status", tabindex: "-1" });
    var buttons = [true, false].map(function (helpful) {
      var b = el(
        "button",
        {
          type: "button",
          class: "fbtn",
          "aria-label": tr(answerLang(m), helpful ? "yes" : "no"),
          title: tr(answerLang(m), helpful ? "yes" : "no"),
          "aria-pressed": m.feedback === helpful ? "true" : "false",
          disabled: m.feedback === true || m.feedback === false,
        },
        [icon("thumb", !helpful)]
      );
      b.addEventListener("click", function () {
        sendFeedback(m, helpful, null, wrap, status);
      });
      return b;
    });
    buttons.forEach(function (b) {
      wrap.appendChild(b);
    });
    wrap.appendChild(status);
    if (m.feedback === true || m.feedback === false) status.textContent = tr(answerLang(m), "thanks");
    return wrap;
  }

  function commentBox(m, wrap, status) {
    var id = uid + "-cm" + String(m.answer_id).replace(/[^A-Za-z0-9_-]/g, "");
    var area = el("textarea", { id: id, maxlength: "1000", rows: "2" });
    var btn = el("button", { type: "button", text: tr(answerLang(m), "commentSend") });
    var box = el("div", { class: "cm" }, [el("label", { for: id, text: tr(answerLang(m), "commentLabel") }), area, btn]);
    btn.addEventListener("click", function () {
      var text = area.value.trim();
      if (!text) return;
      btn.disabled = true;
      sendFeedback(m, false, text, wrap, status, box);
    });
    return box;
  }

  function sendFeedback(m, helpful, comment, wrap, status, commentEl) {
    var body = { answer_id: m.answer_id, helpful: helpful };
    if (comment) body.comment = comment;
    var buttons = wrap.querySelectorAll(".fbtn");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    request("/api/v1/feedback", body, 15000)
      .then(function () {
        m.feedback = helpful;
        save();
        for (var j = 0; j < buttons.length; j++) {
          buttons[j].setAttribute("aria-pressed", String((j === 0) === helpful));
        }
        status.textContent = tr(answerLang(m), "thanks");
        if (commentEl) {
          commentEl.remove();
          status.focus();
        } else if (!helpful && !wrap.querySelector(".cm")) {
          var box = commentBox(m, wrap, status);
          wrap.appendChild(box);
          box.querySelector("textarea").focus();
        } else {
          status.focus();
        }
      })
      .catch(function () {
        status.textContent = tr(answerLang(m), "feedbackError");
        if (commentEl) {
          commentEl.querySelector("button").disabled = false;
          commentEl.querySelector("button").focus();
        } else {
          for (var j = 0; j < buttons.length; j++) buttons[j].disabled = false;
          buttons[helpful ? 0 : 1].focus();
        }
      });
  }

  function renderLog() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    state.msgs.forEach(function (m, i) {
      ui.log.appendChild(renderMsg(m, i));
    });
    if (ui.pendingEl) ui.log.appendChild(ui.pendingEl);
  }

  function renderMsg(m, i) {
    if (m.role === "user") return renderUser(m);
    if (m.role === "error") return renderError(m);
    if (m.role === "handoff") return renderHandoff(m, i);
    if (m.role === "ticket") return renderTicket(m);
    if (m.role === "reply") return renderReply(m);
    return renderBot(m, i);
  }

  function scrollToEnd() {
    ui.body.scrollTop = ui.body.scrollHeight;
  }

  function push(m) {
    state.msgs.push(m);
    if (state.msgs.length > MAX_KEPT) state.msgs = state.msgs.slice(-MAX_KEPT);
    save();
    var node = renderMsg(m, state.msgs.length - 1);
    if (ui.pendingEl && ui.pendingEl.parentNode === ui.log) ui.log.insertBefore(node, ui.pendingEl);
    else ui.log.appendChild(node);
    return node;
  }

  // ---------------------------------------------------------------- talking to the API
  function HttpError(status, data, retryAfter) {
    this.status = status;
    this.data = data || {};
    this.retryAfter = retryAfter;
  }

  function errorFor(err) {
    if (!(err instanceof HttpError) || !err.status) return { key: "errNetwork" };
    var s = err.status;
    var detail = String((err.data && (err.data.detail || err.data.error)) || "");
    if (s === 429) {
      // Retry-After is readable cross-origin only when the server exposes it
      var secs = parseInt(err.retryAfter || (err.data && err.data.retry_after) || "", 10);
      if (/daily|per day/i.test(detail) || secs > 3600) return { key: "errDaily" };
      return secs > 0 && secs <= 300 ? { key: "errRate", vars: { s: secs } } : { key: "errRateNoTime" };
    }
    if (s === 503 || s === 502 || s === 504) return { key: "errBusy" };
    if (s === 403 || s === 401) {
      // a site set-up problem (origin not allowed): tell the web master, not the resident
      if (window.console) console.warn("madoguchi widget: " + detail);
      return { key: "errServer" };
    }
    if (s === 413 || /too long|limit is|characters long|too large/i.test(detail)) {
      return { key: "errTooLong" };
    }
    if (s >= 400 && s < 500) return { key: "errBad" };
    if (s === -1) return { key: "errStream" };
    return { key: "errServer" };
  }

  function timeoutSignal(ms) {
    if (typeof AbortController !== "function") return {};
    var ctl = new AbortController();
    var timer = setTimeout(function () {
      ctl.abort();
    }, ms);
    return { signal: ctl.signal, done: function () { clearTimeout(timer); } };
  }

  function fetchJSON(path, body, ms, accept) {
    var to = timeoutSignal(ms);
    return fetch(API + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: accept || "application/json" },
      body: JSON.stringify(body),
      signal: to.signal,
    }).then(
      function (resp) {
        if (to.done) to.done();
        return resp;
      },
      function (e) {
        if (to.done) to.done();
        throw new HttpError(0, { detail: String(e) });
      }
    );
  }

  function failOn(resp) {
    return resp.json().then(
      function (data) {
        throw new HttpError(resp.status, data, resp.headers.get("Retry-After"));
      },
      function () {
        throw new HttpError(resp.status, null, resp.headers.get("Retry-After"));
      }
    );
  }

  function request(path, body, ms) {
    return fetchJSON(path, body, ms).then(function (resp) {
      if (!resp.ok) return failOn(resp);
      return resp.json();
    });
  }

  /** POST /ask/stream: text pieces go to onDelta; resolves with the final answer JSON. */
  function askStream(body, onDelta) {
    return fetchJSON("/api/v1/ask/stream", body, 90000, "text/event-stream").then(function (resp) {
      if (resp.status === 404 || resp.status === 405) return request("/api/v1/ask", body, 60000);
      if (!resp.ok) return failOn(resp);
      if ((resp.headers.get("Content-Type") || "").indexOf("text/event-stream") < 0) {
        return resp.json();
      }
      var result = null;
      var failure = null;
      function onEvent(name, data) {
        var payload;
        try {
          payload = JSON.parse(data);
        } catch (e) {
          return;
        }
        if (name === "delta" && payload && typeof payload.text === "string") onDelta(payload.text);
        else if (name === "final") result = payload;
        else if (name === "error") failure = payload || {};
      }
      var buffer = "";
      var evName = "message";
      var dataLines = [];
      function feed(chunk, flush) {
        buffer += chunk;
        var lines = buffer.split(/\r\n|\r|\n/);
        buffer = flush ? "" : lines.pop();
        lines.forEach(function (line) {
          if (line === "") {
            if (dataLines.length) onEvent(evName, dataLines.join("\n"));
            evName = "message";
            dataLines = [];
          } else if (line.charAt(0) === ":") {
            /* comment / keep-alive */
          } else {
            var i = line.indexOf(":");
            var field = i < 0 ? line : line.slice(0, i);
            var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "event") evName = value;
            else if (field === "data") dataLines.push(value);
          }
        });
        if (flush && dataLines.length) onEvent(evName, dataLines.join("\n"));
      }
      function finish() {
        if (failure) {
          var name = String(failure.error || "");
          var st = /rate/i.test(name)
            ? 429
            : /unavailable|busy|store|config/i.test(name)
              ? 503
              : /input|invalid/i.test(name)
                ? 400
                : 500;
          throw new HttpError(st, failure, failure.retry_after);
        }
        if (!result) throw new HttpError(-1, null);
        return result;
      }
      if (!resp.body || typeof resp.body.getReader !== "function" || typeof TextDecoder !== "function") {
        return resp.text().then(function (all) {
          feed(all, true);
          return finish();
        });
      }
      var reader = resp.body.getReader();
      var decoder = new TextDecoder();
      function pump() {
        return reader.read().then(
          function (step) {
            if (step.done) {
              feed(decoder.decode(), true);
              return finish();
            }
            feed(decoder.decode(step.value, { stream: true }), false);
            return result || failure ? finish() : pump();
          },
          function () {
            if (result || failure) return finish();
            throw new HttpError(-1, null);
          }
        );
      }
      return pump();
    });
  }

  function setPending(on) {
    pending = on;
    ui.send.disabled = on;
    ui.log.setAttribute("aria-busy", on ? "true" : "false");
    if (on) {
      ui.pendingEl = el("div", { class: "thinking", text: t("thinking") });
      ui.log.appendChild(ui.pendingEl);
    } else if (ui.pendingEl) {
      ui.pendingEl.remove();
      ui.pendingEl = null;
    }
  }

  function ask(question) {
    var q = String(question || "").trim();
    if (!q || pending) return;
    if (q.length > MAX_CHARS) {
      push({ role: "error", key: "errTooLong" });
      scrollToEnd();
      return;
    }
    if (ui.input.value.trim() === q) ui.input.value = "";
    autosize();
    push({ role: "user", text: q });
    setPending(true);
    scrollToEnd();
    var body = { question: q, lang: state.lang };
    if (state.cid) body.conversation_id = state.cid;
    var live = null;
    askStream(body, function (piece) {
      if (!live) {
        live = el("div", { class: "msg bot" }, [el("div", { class: "text" })]);
        ui.pendingEl.textContent = "";
        ui.pendingEl.className = "";
        ui.pendingEl.appendChild(live);
      }
      var near = ui.body.scrollHeight - ui.body.scrollTop - ui.body.clientHeight < 60;
      live.firstChild.textContent += piece;
      if (near) scrollToEnd();
    })
      .then(function (data) {
        if (!data || typeof data.answer !== "string") throw new HttpError(500, data);
        if (typeof data.conversation_id === "string" && data.conversation_id) {
          state.cid = data.conversation_id;
        }
        setPending(false);
        var node = push({
          role: "bot",
          answer: data.answer,
          refused: !!data.refused,
          lang: data.lang,
          follow_up: data.follow_up,
          citations: data.citations,
          department: data.department,
          department_label: data.department_label,
          phone: data.phone,
          original: data.original,
          related: data.related,
          handoff: data.handoff || null,
          question: q,
          answer_id: data.answer_id,
          feedback: null,
        });
        // show the start of the answer, not its end
        ui.body.scrollTop = Math.max(0, node.offsetTop - 12);
      })
      .catch(function (err) {
        setPending(false);
        push(Object.assign({ role: "error" }, errorFor(err)));
        // the question is not lost: it goes back into the box to send again
        if (!ui.input.value.trim()) ui.input.value = q;
        autosize();
        scrollToEnd();
      });
  }

  // ---------------------------------------------------------------- hand-off to staff
  // After a refusal (and from the header): whether the department's office is open now
  // (GET /api/v1/handoff/status), its phone to call, or when it opens; and a message to
  // staff (POST /api/v1/handoff) whose reply the widget fetches with the ticket's token.
  var polls = {}; // ticket id -> timer

  function getJSON(path, ms) {
    var to = timeoutSignal(ms);
    return fetch(API + path, {
      mode: "cors",
      credentials: "omit",
      headers: { Accept: "application/json" },
      signal: to.signal,
    }).then(
      function (resp) {
        if (to.done) to.done();
        if (!resp.ok) return failOn(resp);
        return resp.json();
      },
      function (e) {
        if (to.done) to.done();
        throw new HttpError(0, { detail: String(e) });
      }
    );
  }

  // an ISO time from the server as the resident's language writes it, in Japan time
  function whenText(iso, lang, timeOnly) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return String(iso || "");
    var opts = timeOnly
      ? { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit" }
      : { timeZone: "Asia/Tokyo", month: "long", day: "numeric", weekday: "short",
          hour: "2-digit", minute: "2-digit" };
    try {
      return new Intl.DateTimeFormat(HTML_LANG[lang] || lang, opts).format(d);
    } catch (e) {
      var plain = String(iso).replace("T", " ").slice(0, 16); // "2026-12-03 08:30"
      return timeOnly ? plain.slice(11) : plain;
    }
  }

  function lastQuestion() {
    for (var i = state.msgs.length - 1; i >= 0; i--) {
      if (state.msgs[i].role === "user") return state.msgs[i].text;
    }
    return "";
  }

  function openHandoff(dept, question, lang) {
    var L = lang || state.lang;
    var q = "?lang=" + encodeURIComponent(L) + (dept ? "&department=" + encodeURIComponent(dept) : "");
    getJSON("/api/v1/handoff/status" + q, 15000)
      .then(function (offer) {
        if (!offer || typeof offer.open !== "boolean") throw new HttpError(500, offer);
        var node = push({ role: "handoff", lang: L, dept: dept || offer.department, q: question || "", offer: offer });
        ui.body.scrollTop = Math.max(0, node.offsetTop - 12);
        var first = node.querySelector("a.callb, button");
        if (first) first.focus();
      })
      .catch(function (err) {
        push(Object.assign({ role: "error" }, errorFor(err)));
        scrollToEnd();
      });
  }

  function handoffButton(onclick) {
    return el("button", { type: "button", class: "hob", onclick: onclick }, [icon("chat"), t("hoButton")]);
  }

  function renderHandoff(m, index) {
    var L = m.lang || state.lang;
    var o = m.offer || {};
    var label = String(o.department_label || o.department || "");
    var box = el("div", { class: "msg bot ho", lang: HTML_LANG[L] || L, role: "group", "aria-labelledby": uid + "-ho" + index });
    box.appendChild(el("h3", { id: uid + "-ho" + index, text: tr(L, "hoButton") }));
    var phone = typeof o.phone === "string" ? o.phone.trim() : "";
    if (o.open) {
      box.appendChild(el("p", { class: "hostate", text: o.closes_at
        ? tr(L, "hoOpen", { dept: label, until: whenText(o.closes_at, L, true) })
        : tr(L, "hoOpenNoTime", { dept: label }) }));
      var call = phone && telHref(phone);
      if (call) {
        box.appendChild(el("p", { class: "call" }, [
          el("a", { href: call, class: "callb" }, [icon("phone"), tr(L, "phone") + " " + phone]),
        ]));
      }
    } else {
      box.appendChild(el("p", { class: "hostate", text: o.next_open
        ? tr(L, "hoClosed", { dept: label, when: whenText(o.next_open, L, false) })
        : tr(L, "hoClosedNever") }));
    }
    box.appendChild(el("p", { text: tr(L, "hoLeave") }));
    var form = handoffForm(m, index, L, o);
    var write = el("button", { type: "button", class: "hob", "aria-expanded": "false" }, [tr(L, "hoWrite")]);
    write.addEventListener("click", function () {
      form.hidden = false;
      write.hidden = true;
      form.querySelector("textarea").focus();
    });
    form.hidden = true;
    box.appendChild(write);
    box.appendChild(form);
    return box;
  }

  function handoffForm(m, index, L, o) {
    var id = uid + "-hf" + index;
    var area = el("textarea", { id: id + "q", rows: "4", maxlength: String(MAX_CHARS) });
    area.value = m.q || "";
    var contact = el("input", { id: id + "c", type: "text", maxlength: "200", autocomplete: "email",
                                inputmode: "email" });
    var consent = el("input", { id: id + "k", type: "checkbox" });
    var status = el("p", { class: "hostatus", role: "alert" });
    var send = el("button", { type: "button", class: "hosend", text: tr(L, "hoSend") });
    var cancel = el("button", { type: "button", class: "hocancel", text: tr(L, "hoCancel") });
    var form = el("div", { class: "hoform" }, [
      el("label", { for: id + "q", text: tr(L, "hoMsg") }), area,
      el("label", { for: id + "c", text: tr(L, "hoContact") }), contact,
      el("p", { class: "consent" }, [consent, el("label", { for: id + "k", text: tr(L, "hoConsent") })]),
      el("p", { class: "note", id: id + "n", text: tr(L, "hoNotice", { days: o.retention_days || 30 }) }),
      el("div", { class: "hobtns" }, [cancel, send]),
      status,
    ]);
    consent.setAttribute("aria-describedby", id + "n");
    area.addEventListener("input", function () {
      status.textContent = "";
    });
    cancel.addEventListener("click", function () {
      var i = state.msgs.indexOf(m);
      if (i >= 0) state.msgs.splice(i, 1);
      renderLog();
      ui.input.focus();
    });
    send.addEventListener("click", function () {
      var text = area.value.trim();
      if (!text) {
        status.textContent = tr(L, "hoEmpty");
        area.focus();
        return;
      }
      send.disabled = true;
      status.textContent = "";
      var body = { question: text, lang: L, consent: !!consent.checked };
      if (m.dept) body.department = m.dept;
      if (contact.value.trim()) body.contact = contact.value.trim();
      if (state.cid) body.conversation_id = state.cid;
      request("/api/v1/handoff", body, 20000)
        .then(function (ticket) {
          if (!ticket || typeof ticket.id !== "string" || typeof ticket.token !== "string") {
            throw new HttpError(500, ticket);
          }
          var i = state.msgs.indexOf(m);
          if (i >= 0) state.msgs.splice(i, 1);
          renderLog();
          var tm = { role: "ticket", lang: L, id: ticket.id, token: ticket.token, status: "open",
                     poll: Number(ticket.poll_seconds) || 30 };
          var node = push(tm);
          node.focus();
          scrollToEnd();
          pollTicket(tm);
        })
        .catch(function (err) {
          send.disabled = false;
          // too long, too many, a bad message: said as for a question; anything else: not sent
          var e = errorFor(err);
          var own = /^err(TooLong|Rate|RateNoTime|Daily|Bad)$/.test(e.key);
          status.textContent = own ? tr(L, e.key, e.vars) : tr(L, "hoFailed");
        });
    });
    return form;
  }

  function renderTicket(m) {
    var L = m.lang || state.lang;
    var box = el("div", { class: "msg bot ticket", lang: HTML_LANG[L] || L, tabindex: "-1" });
    box.appendChild(el("p", { text: tr(L, "hoSent", { id: m.id }) }));
    if (m.status !== "answered") box.appendChild(el("p", { class: "howait", text: tr(L, "hoWaiting") }));
    return box;
  }

  function renderReply(m) {
    var L = m.lang || state.lang;
    var box = el("div", { class: "msg bot staff", lang: HTML_LANG[L] || L });
    box.appendChild(el("h3", { text: tr(L, "hoReply") }));
    box.appendChild(answerText(m.text, "ja"));
    return box;
  }

  function pollTicket(m) {
    if (polls[m.id] || m.status === "answered") return;
    var wait = Math.max(200, Math.min(3600000, (m.poll || 30) * 1000));
    polls[m.id] = setTimeout(function () {
      polls[m.id] = null;
      getJSON("/api/v1/handoff/" + encodeURIComponent(m.id) + "?token=" + encodeURIComponent(m.token), 15000)
        .then(function (data) {
          if (state.msgs.indexOf(m) < 0) return; // a new conversation was started meanwhile
          if (data && data.status === "answered" && typeof data.reply === "string") {
            m.status = "answered";
            push({ role: "reply", lang: m.lang, id: m.id, text: data.reply });
            renderLog();
            scrollToEnd();
          } else {
            pollTicket(m);
          }
        })
        .catch(function (err) {
          // a ticket gone (deleted after the retention period): stop asking
          if (err instanceof HttpError && err.status === 404) {
            m.status = "gone";
            save();
            return;
          }
          pollTicket(m);
        });
    }, wait);
  }

  function loadConfig() {
    if (config) return;
    config = {};
    var to = timeoutSignal(15000);
    fetch(API + "/api/v1/config", { mode: "cors", credentials: "omit", signal: to.signal })
      .then(function (r) {
        return r.ok ? r.json() : {};
      })
      .then(function (c) {
        config = c && typeof c === "object" ? c : {};
        renderChrome();
      })
      .catch(function () {
        /* the widget still answers; it just lacks the town's name and suggestions */
      })
      .then(function () {
        if (to.done) to.done();
      });
  }

  // ---------------------------------------------------------------- open / close, keyboard
  function setOpen(open, moveFocus) {
    state.open = open;
    save();
    ui.panel.hidden = !open;
    ui.wrap.classList.toggle("open", open);
    ui.launch.setAttribute("aria-expanded", String(open));
    if (open) {
      loadConfig();
      scrollToEnd();
      if (moveFocus) ui.input.focus();
    } else if (moveFocus) {
      ui.launch.focus();
    }
  }

  function focusables() {
    var nodes = ui.panel.querySelectorAll(
      "button:not([disabled]),a[href],select,textarea,input,summary,[tabindex]:not([tabindex='-1'])"
    );
    return Array.prototype.filter.call(nodes, function (n) {
      return n.getClientRects().length > 0;
    });
  }

  ui.launch.addEventListener("click", function () {
    setOpen(!state.open, true);
  });
  ui.close.addEventListener("click", function () {
    setOpen(false, true);
  });
  ui.restart.addEventListener("click", function () {
    if (pending) return;
    Object.keys(polls).forEach(function (id) {
      if (polls[id]) clearTimeout(polls[id]);
      polls[id] = null;
    });
    state.msgs = [];
    state.cid = null;
    save();
    renderLog();
    ui.body.scrollTop = 0;
    ui.input.focus();
  });
  ui.langSel.addEventListener("change", function () {
    state.lang = canonLang(ui.langSel.value) || state.lang;
    save();
    renderChrome();
    renderLog();
    ui.langSel.focus();
  });
  ui.send.addEventListener("click", function () {
    ask(ui.input.value);
    ui.input.focus();
  });
  ui.handoff.addEventListener("click", function () {
    openHandoff(null, lastQuestion(), state.lang);
  });

  function autosize() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 132) + "px";
  }
  ui.input.addEventListener("input", autosize);
  ui.input.addEventListener("keydown", function (e) {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME conversion does nothing
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      ask(ui.input.value);
    }
  });

  ui.panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape" || e.key === "Esc") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false, true);
      return;
    }
    if (e.key !== "Tab") return;
    var list = focusables();
    if (!list.length) return;
    var first = list[0];
    var last = list[list.length - 1];
    var active = root.activeElement;
    if (e.shiftKey && (active === first || list.indexOf(active) < 0)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || list.indexOf(active) < 0)) {
      e.preventDefault();
      first.focus();
    }
  });

  // ---------------------------------------------------------------- start
  function mount() {
    // the end of <html>, not <body>: a transformed or hidden body cannot take the widget along
    document.documentElement.appendChild(host);
    renderChrome();
    renderLog();
    if (state.open) setOpen(true, false);
    // tickets still waiting for staff (the page was reloaded): keep asking
    state.msgs.forEach(function (m) {
      if (m.role === "ticket" && m.status === "open" && m.id && m.token) pollTicket(m);
    });
  }
  if (document.documentElement) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
