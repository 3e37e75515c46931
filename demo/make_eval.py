"""Writes demo/eval.jsonl: questions as residents type them, with what must be found.

Answerable items name the source that holds the answer and a short string the
answer must contain; unanswerable ones must be refused. Questions are our own
paraphrases, deliberately not the FAQ's wording.
"""

import json
from pathlib import Path

F = "demo/faq.csv#"
BOUSAI, GOMI, BUS, IJU, PDF = (
    "demo/pages/bousai.md",
    "demo/pages/gomi_calendar.md",
    "demo/pages/bus.html",
    "demo/pages/iju.html",
    "demo/pdf/kosodate_guide.pdf",
)

ANSWERABLE = [
    # (question, [sources], [must contain])
    ("ソファ捨てたいんだけどどうすればいい？", [F + "1"], ["500円"]),
    ("古い冷蔵庫を処分したい", [F + "2"], ["家電リサイクル"]),
    ("東地区の燃えるゴミって何曜日？", [F + "3", GOMI], ["月曜日"]),
    ("ゴミ袋ってどこに売ってる？", [F + "4"], ["400円"]),
    ("ペットボトルは何日に出せばいいの", [F + "5", GOMI], ["第2"]),
    ("カセットボンベの捨て方", [F + "6"], ["穴を開けずに"]),
    ("クリーンセンターに直接ごみを持って行ける？", [F + "7"], ["100円"]),
    ("住民票ほしい 何持っていけばいい", [F + "9"], ["300円"]),
    ("コンビニで印鑑証明って取れる？", [F + "10"], ["200円"]),
    ("本籍がよその町なんだけど戸籍謄本ここで取れますか", [F + "11"], ["広域交付"]),
    ("役場って何時まで開いてる？", [F + "13"], ["5時15分"]),
    ("引っ越してきたら何の手続きがいる？", [F + "15"], ["14日以内"]),
    ("マイナンバーカード作りたい", [F + "18"], ["顔写真"]),
    ("税金をpaypayで払える？", [F + "20"], ["PayPay"]),
    ("会社やめたけど健康保険どうしたらいい", [F + "25"], ["14日以内"]),
    ("年金の保険料が払えない", [F + "28"], ["免除"]),
    ("子どもが生まれたら手当の申請って必要？", [F + "30"], ["15日以内"]),
    ("児童手当って月いくらもらえるの", [F + "31"], ["1万5千円"]),
    ("保育園の申込みの締め切りはいつ？", [F + "32"], ["11月30日"]),
    ("学童保育の料金を知りたい", [F + "34"], ["3,000円"]),
    ("避難所ってどこにある？", [F + "39", BOUSAI], ["総合体育館"]),
    ("防災無線が聞こえなかったときに確認する方法は", [F + "41"], ["0120-000-456"]),
    ("水道を止めたい 引っ越すので", [F + "43"], ["3日前"]),
    ("水道管が凍結したらどうする？", [F + "45"], ["ぬるま湯"]),
    ("図書館って月曜休み？", [F + "49"], ["月曜日"]),
    ("町営バスの料金", [F + "53", BUS], ["200円"]),
    ("犬飼い始めたんだけど何か届け出るの？", [F + "54"], ["30日以内"]),
    ("おばあちゃんが亡くなったんだけど手続きが多すぎて…", [F + "58"], ["お悔やみ窓口"]),
    # only in the pages / PDF
    ("ペットと一緒に避難できる避難所はある？", [BOUSAI], ["総合体育館"]),
    ("年末年始のごみ収集はいつまで？", [GOMI], ["12月31日"]),
    ("生ごみ処理機を買うと補助出る？", [GOMI], ["2万円"]),
    ("西原線の最終バスは何時？", [BUS], ["18時05分"]),
    ("バス停が遠いんだけど家まで迎えに来てくれるバスある？", [BUS], ["デマンド"]),
    ("お試しで町に住んでみることはできますか", [IJU], ["1,000円"]),
    ("東京から移住したらお金もらえるって本当？", [IJU], ["60万円"]),
    ("3歳児健診では何をしますか", [PDF], ["視力"]),
    ("子どもが熱を出したとき預けられるところはある？", [PDF], ["ひだまり"]),
    ("妊娠したらまずどこに行けばいい？", [PDF], ["妊娠届"]),
]

UNANSWERABLE = [
    "町長の給料はいくらですか？",
    "パスポートの申請はどこでできますか",
    "期日前投票の場所を教えて",
    "明日の天気は？",
    "隣の市の図書館の開館時間は？",
    "町内でおいしいラーメン屋さんを教えて",
    "町議会の議員定数は何人？",
    "狩猟免許を取りたい",
    "自衛隊に入隊するにはどうすればいい？",
    "町の人口は今何人ですか",
    "役場の職員採用試験はいつ？",
    "カレーの作り方を教えて",
]

FOREIGN = [
    ("How do I get rid of an old sofa?", "en", [F + "1"], ["01234-5-1103"]),
    ("What do I need to get a copy of my residence certificate?", "en", [F + "9"], ["300"]),
    ("I just moved to this town. What procedures do I need to do?", "en", [F + "15"], ["14"]),
    ("How much is the child allowance per month?", "en", [F + "31"], ["01234-5-1104"]),
    ("我想办理住民票，需要带什么？", "zh", [F + "9"], ["300"]),
    ("养狗需要登记吗？", "zh", [F + "54"], ["3,000"]),
    ("주민표를 발급받으려면 무엇이 필요한가요?", "ko", [F + "9"], ["300"]),
    ("재해가 났을 때 대피소는 어디인가요?", "ko", [F + "39", BOUSAI], ["01234-5-1106"]),
    (
        "Tôi muốn đăng ký bảo hiểm y tế quốc dân vì đã nghỉ việc.",
        "vi",
        [F + "25"],
        ["01234-5-1101"],
    ),
    ("Làm thế nào để vứt bình xịt?", "vi", [F + "6"], ["01234-5-1103"]),
    ("Como faço para jogar fora um sofá velho?", "pt", [F + "1"], ["500"]),
    ("Quanto custa a passagem do ônibus municipal?", "pt", [F + "53", BUS], ["200"]),
]

FOREIGN_UNANSWERABLE = [
    ("How much does the mayor earn?", "en"),
    ("Where can I renew my passport?", "en"),
    ("明天的天气怎么样？", "zh"),
    ("이 동네에서 맛있는 라면집을 추천해 주세요.", "ko"),
    ("Làm thế nào để đổi bằng lái xe quốc tế?", "vi"),
    ("Qual é o horário do trem-bala para Tóquio?", "pt"),
]

items = []
for i, (q, src, must) in enumerate(ANSWERABLE, 1):
    items.append(
        {
            "id": f"ja-{i:02d}",
            "question": q,
            "lang": "ja",
            "answerable": True,
            "expected_sources": src,
            "expected_answer_contains": must,
        }
    )
for i, q in enumerate(UNANSWERABLE, 1):
    items.append(
        {
            "id": f"un-{i:02d}",
            "question": q,
            "lang": "ja",
            "answerable": False,
            "expected_sources": [],
            "expected_answer_contains": [],
            "note": "not covered by the demo corpus",
        }
    )
for i, (q, lang, src, must) in enumerate(FOREIGN, 1):
    items.append(
        {
            "id": f"{lang}-{i:02d}",
            "question": q,
            "lang": lang,
            "answerable": True,
            "expected_sources": src,
            "expected_answer_contains": must,
        }
    )
for i, (q, lang) in enumerate(FOREIGN_UNANSWERABLE, 1):
    items.append(
        {
            "id": f"un-{lang}-{i:02d}",
            "question": q,
            "lang": lang,
            "answerable": False,
            "expected_sources": [],
            "expected_answer_contains": [],
            "note": "not covered by the demo corpus",
        }
    )
out = Path(__file__).with_name("eval.jsonl")
out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
print(f"wrote {out} ({len(items)} questions)")

# A second, separate set for foreign residents (demo/eval_multilingual.jsonl): more
# questions per language, including the languages without items above (es, tl, ne,
# zh-Hant), on entries with and without translations (faq_<lang>.csv). Expected strings
# are figures or phones that a correct answer holds whether it is translated or not.
MULTI = [
    ("Where do I buy the yellow garbage bags and what do they cost?", "en", [F + "4"], ["400"]),
    ("My TV broke. Will the town pick it up as large garbage?", "en", [F + "2"], ["01234-5-1103"]),
    ("How much is the dog registration fee?", "en", [F + "54"], ["3,000"]),
    ("How can I apply for a My Number card?", "en", [F + "18"], ["01234-5-1101"]),
    ("Can I get a seal certificate at a convenience store?", "en", [F + "10"], ["200"]),
    ("东地区什么时候收可燃垃圾？", "zh-Hans", [F + "3", GOMI], ["01234-5-1103"]),
    ("辞职以后怎么加入国民健康保险？", "zh-Hans", [F + "25"], ["14"]),
    ("三岁以下的孩子每个月能领多少儿童补贴？", "zh-Hans", [F + "31"], ["01234-5-1104"]),
    ("타는 쓰레기 버리는 요일이 언제예요?", "ko", [F + "3", GOMI], ["01234-5-1103"]),
    ("이사 오면 며칠 안에 전입신고를 해야 하나요?", "ko", [F + "15"], ["14"]),
    ("마을버스 요금이 얼마예요?", "ko", [F + "53", BUS], ["200"]),
    ("Trợ cấp nuôi con mỗi tháng được bao nhiêu tiền?", "vi", [F + "31"], ["01234-5-1104"]),
    ("Xe buýt của thị trấn giá vé bao nhiêu?", "vi", [F + "53", BUS], ["200"]),
    ("Tôi mới chuyển đến, cần làm thủ tục gì?", "vi", [F + "15"], ["14"]),
    ("Onde compro sacos de lixo e quanto custam?", "pt", [F + "4"], ["400"]),
    ("Preciso registrar meu cachorro?", "pt", [F + "54"], ["01234-5-1103"]),
    ("Como faço para tirar uma cópia do juminhyo?", "pt", [F + "9"], ["300"]),
    ("¿Cómo me deshago de un sofá viejo?", "es", [F + "1"], ["500"]),
    ("¿Qué necesito para sacar el certificado de residencia?", "es", [F + "9"], ["300"]),
    ("¿Cuánto cuesta el autobús del pueblo?", "es", [F + "53", BUS], ["200"]),
    ("Paano ko itatapon ang lumang kama?", "tl", [F + "1"], ["500"]),
    ("Magkano ang kopya ng residence certificate?", "tl", [F + "9"], ["300"]),
    ("पुरानो सोफा कसरी फाल्ने?", "ne", [F + "1"], ["500"]),
    ("बसोबास प्रमाणपत्र लिन के चाहिन्छ?", "ne", [F + "9"], ["300"]),
    ("舊沙發要怎麼丟？", "zh-Hant", [F + "1"], ["500"]),
    ("申請住民票需要帶什麼？", "zh-Hant", [F + "9"], ["300"]),
]
MULTI_UNANSWERABLE = [
    ("¿Dónde puedo renovar mi visa?", "es"),
    ("Magkano ang sahod ng mayor?", "tl"),
    ("भिसा कसरी नवीकरण गर्ने?", "ne"),
    ("明天會下雨嗎？", "zh-Hant"),
]
multi = [
    {
        "id": f"m-{lang}-{i:02d}",
        "question": q,
        "lang": lang,
        "answerable": True,
        "expected_sources": src,
        "expected_answer_contains": must,
    }
    for i, (q, lang, src, must) in enumerate(MULTI, 1)
] + [
    {
        "id": f"m-un-{lang}-{i:02d}",
        "question": q,
        "lang": lang,
        "answerable": False,
        "expected_sources": [],
        "expected_answer_contains": [],
        "note": "not covered by the demo corpus",
    }
    for i, (q, lang) in enumerate(MULTI_UNANSWERABLE, 1)
]
out = Path(__file__).with_name("eval_multilingual.jsonl")
out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in multi), encoding="utf-8")
print(f"wrote {out} ({len(multi)} questions)")
