"""Writes our own resident-style questions over the real FAQ data in ../shared/data.

The questions are written by the madoguchi authors (paraphrases in the way
residents type, not the FAQ's wording); the data they point to is third-party
and not redistributed (see ../shared/data/SOURCES.md). Expected sources list
every row we found that holds the answer.
"""

import json
from pathlib import Path

A = "data/amagasaki_faq/faq.csv#"

AMAGASAKI = [
    ("住民票って郵送で送ってもらえる？", [62]),
    ("休みの日に印鑑証明とりたいんだけど", [213]),
    ("マイナンバーが載った住民票はもらえますか", [396, 517]),
    ("印鑑の登録ってどうやるの", [5]),
    ("戸籍謄本を遠くから郵便で頼みたい", [19]),
    ("戸籍抄本の手数料いくら？", [386, 119]),
    ("尼崎に引っ越してくるときの届け出", [2]),
    ("市外に引っ越すとき何をすればいい", [8]),
    ("転出証明書を郵便で受け取れる？", [121]),
    ("国保の保険料を口座引き落としにしたい", [13]),
    ("国保をやめるときに必要なもの", [60]),
    ("大学生で年金払えないんだけど", [36]),
    ("介護サービスを使いたい どう申し込む", [9]),
    ("児童手当の現況届を出し忘れたらどうなる", [38, 45]),
    ("公立保育所は何時まで子どもを見てくれる？", [790]),
    ("70歳以上のバスの無料パスが欲しい", [18]),
    ("犬を飼ったら届け出いる？", [514]),
    ("犬の鑑札なくしちゃった", [877]),
    ("飼ってたペットが死んだ 手続き必要？", [1110]),
    ("撤去された自転車 鍵がないけど返してもらえる？", [254]),
    ("撤去された自転車を家族が代わりに取りに行ける？", [173]),
    ("納税証明書がほしい", [15]),
    ("バイクを人からもらった 手続きは", [32]),
    ("原付が壊れて捨てた 税金の手続きいる？", [92]),
    ("固定資産の評価証明を取りたい", [6]),
    ("税金の証明書って支所でも出してもらえるの", [137]),
    ("図書館の休みの日と開いてる時間", [288]),
    ("図書館の本の返却期限をのばしたい", [842]),
    ("母子手帳はどこでもらうの", [306, 370]),
    ("母子家庭の医療費助成の所得制限は", [23]),
    ("下水道料金の払い方", [677]),
    ("ハザードマップが見たい", [373]),
    ("出生届に何を持っていけばいい", [831]),
    ("出生届って誰が出すの", [886]),
    ("子どもが生まれた後にする手続き", [1175]),
    ("児童扶養手当の振り込みはいつ", [990]),
    ("妊婦健診の助成の手続きはどこで", [198]),
    ("子宮頸がんワクチンの副作用が心配", [381]),
    ("特定健診は受けずにがん検診だけ受けたい", [489, 465]),
    ("市税を口座振替にしたい", [120, 402]),
    ("税金払うのが苦しい 安くならない？", [79]),
    ("収入ゼロでも非課税証明書もらえる？", [124]),
    ("小学生の子を放課後預けたい 共働きです", [111]),
    ("期日前投票はどこでできる", [75]),
    ("カラスの被害に困ってる", [185, 511]),
    ("市の職員採用試験を受けたい", [367, 118]),
    ("献血できる場所", [601]),
    ("ふるさと納税について知りたい", [65, 189]),
    ("市営住宅に一人暮らしで申し込める？", [172]),
    ("ペットがいなくなってしまった", [1670]),
]

AMAGASAKI_UNANSWERABLE = [
    "市内でおすすめのラーメン屋は？",
    "宝くじの当選番号を知りたい",
    "近くに動物園はありますか",
    "大雪の日の除雪は市がやってくれる？",
    "日帰り温泉でおすすめは？",
    "パスポートの申請はどこでできますか",
    "市長の給料はいくらですか",
    "明日の天気を教えて",
    "運転免許の更新はどこでするの",
    "新幹線の始発は何時？",
    "空港行きのリムジンバスの時刻",
    "車検を安く受けられる場所",
    "カレーの作り方を教えて",
    "猫の里親を探しています",
    "西宮市のごみの収集日を知りたい",
]

AMAGASAKI_FOREIGN = [
    ("How do I register my dog?", "en", [514]),
    ("Where can I get a maternal and child health handbook?", "en", [306, 370]),
    ("What should I bring to register a birth?", "en", [831]),
    ("Can the city mail me a copy of my residence certificate?", "en", [62]),
    ("图书馆的开馆时间和休馆日是什么时候？", "zh", [288]),
    ("我要搬出尼崎市，需要办什么手续？", "zh", [8]),
    ("국민건강보험을 탈퇴할 때 무엇이 필요한가요?", "ko", [60]),
    ("어린이가 태어난 후에 어떤 절차가 필요한가요?", "ko", [1175]),
    ("Tôi muốn biết giờ mở cửa của thư viện.", "vi", [288]),
    ("Onde posso pegar o caderno de saúde materno-infantil?", "pt", [306, 370]),
]

AMAGASAKI_FOREIGN_UNANSWERABLE = [
    ("What is the best ramen shop in the city?", "en"),
    ("Where do I renew my driver's license?", "en"),
    ("市长的工资是多少？", "zh"),
    ("내일 날씨는 어때요?", "ko"),
    ("Tôi muốn mua vé xổ số ở đâu?", "vi"),
    ("Onde fica o aeroporto mais próximo?", "pt"),
]

K = "data/kameoka_5374/target.csv#"


def kameoka_items():
    """Garbage-sorting questions over the Shift_JIS 5374 table, found by item name."""
    import csv
    import io

    here = Path(__file__).resolve()
    target = here.parents[3] / "shared" / "data" / "kameoka_5374" / "target.csv"
    if not target.exists():
        return []
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("cp932"), newline="")))[1:]

    def rec(*names):
        out = [i for i, r in enumerate(rows, start=1) if len(r) > 1 and r[1] in names]
        assert out, names
        return out

    asks = [
        ("古いスプレー缶どう捨てる？", rec("スプレー缶")),
        (
            "使い終わった乾電池は何ごみ？",
            rec("乾電池（マンガン・アルカリ・リチウム1次電池）", "電池"),
        ),
        ("カセットコンロのガス缶の出し方", rec("カセットボンベ（スプレー缶）")),
        ("ペットボトルの捨て方", rec("ペットボトル")),
        ("蛍光管を捨てたい", rec("蛍光灯（蛍光管）（長さ120cm以下・40W以下まで）")),
        ("古くなった傘は何ごみ", rec("傘")),
        ("フライパンの捨て方", rec("フライパン")),
        ("電気毛布を処分したい", rec("電気毛布")),
        ("車のタイヤって捨てられる？", rec("タイヤ（ホイールなし）", "タイヤ（ホイールつき）")),
        ("消火器の処分方法", rec("消火器")),
        ("ぬいぐるみは燃えるごみ？", rec("ぬいぐるみ（50cm以下）", "ぬいぐるみ")),
        ("お墓の石を処分したい", rec("墓石")),
    ]
    return asks


def main():
    items = []
    for i, (q, ids) in enumerate(AMAGASAKI, 1):
        src = [f"{A}{x}" for x in ids]
        items.append(
            {
                "id": f"am-p-{i:03d}",
                "question": q,
                "lang": "ja",
                "answerable": True,
                "expected_sources": src,
                "expected_answer_contains": [],
                "relevance": {s: 2 for s in src},
            }
        )
    for i, q in enumerate(AMAGASAKI_UNANSWERABLE, 1):
        items.append(
            {
                "id": f"am-u-{i:03d}",
                "question": q,
                "lang": "ja",
                "answerable": False,
                "expected_sources": [],
                "expected_answer_contains": [],
                "note": "no FAQ row answers this (checked by keyword search)",
            }
        )
    for i, (q, lang, ids) in enumerate(AMAGASAKI_FOREIGN, 1):
        src = [f"{A}{x}" for x in ids]
        items.append(
            {
                "id": f"am-f-{i:03d}",
                "question": q,
                "lang": lang,
                "answerable": True,
                "expected_sources": src,
                "expected_answer_contains": [],
                "relevance": {s: 2 for s in src},
            }
        )
    for i, (q, lang) in enumerate(AMAGASAKI_FOREIGN_UNANSWERABLE, 1):
        items.append(
            {
                "id": f"am-fu-{i:03d}",
                "question": q,
                "lang": lang,
                "answerable": False,
                "expected_sources": [],
                "expected_answer_contains": [],
                "note": "no FAQ row answers this",
            }
        )
    out = Path(__file__).with_name("amagasaki_paraphrased.jsonl")
    out.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8"
    )
    print(f"wrote {out} ({len(items)} questions)")

    k = []
    for i, (q, recs) in enumerate(kameoka_items(), 1):
        src = [f"{K}{x}" for x in recs]
        k.append(
            {
                "id": f"km-p-{i:03d}",
                "question": q,
                "lang": "ja",
                "answerable": True,
                "expected_sources": src,
                "expected_answer_contains": [],
            }
        )
    for i, q in enumerate(
        [
            "使い捨てライターの捨て方",
            "壊れたドローンを捨てたい",
            "太陽光パネルを処分したい",
            "ダイビング用のボンベの捨て方",
        ],
        1,
    ):
        k.append(
            {
                "id": f"km-u-{i:03d}",
                "question": q,
                "lang": "ja",
                "answerable": False,
                "expected_sources": [],
                "expected_answer_contains": [],
            }
        )
    if k:
        out = Path(__file__).with_name("kameoka_5374_paraphrased.jsonl")
        out.write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in k), encoding="utf-8"
        )
        print(f"wrote {out} ({len(k)} questions)")


if __name__ == "__main__":
    main()
