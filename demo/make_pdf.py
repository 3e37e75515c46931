"""Builds demo/pdf/kosodate_guide.pdf, the fictional town's child-rearing guide.

Uses reportlab's built-in Japanese CID font (no font files, no download), so
pypdf can extract the text again. Run: python demo/make_pdf.py
"""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "HeiseiKakuGo-W5"

PAGES = [
    (
        "みどり川町 子育てガイドブック 令和8年度版",
        [
            (
                "妊娠がわかったら",
                [
                    "妊娠がわかったら、保健センターに妊娠届を出してください。",
                    "母子健康手帳と妊婦健康診査の受診票14回分をお渡しします。",
                    "届出のときに保健師が面談し、出産までの相談にのります。",
                    "妊婦健康診査の費用は1回あたり上限7,000円まで町が負担します。",
                ],
            ),
            (
                "出産・子育て応援給付",
                [
                    "妊娠届のときに5万円、出生届のあとの赤ちゃん訪問のときに5万円を支給します。",
                    "あわせて、町内の商店で使える子育て応援券1万円分をお渡しします。",
                ],
            ),
            (
                "赤ちゃん訪問",
                [
                    "生後2か月ごろまでに、保健師または助産師がご自宅を訪問します。",
                    "赤ちゃんの体重測定や授乳、予防接種の相談ができます。",
                ],
            ),
        ],
    ),
    (
        "乳幼児健診と医療費",
        [
            (
                "乳幼児健康診査",
                [
                    "保健センターで次の健診を行います。対象の方には日程を郵送します。",
                    "4か月児健診、10か月児健診、1歳6か月児健診、3歳児健診。",
                    "3歳児健診では視力と聴力の検査、歯科健診も行います。",
                    "健診の費用は無料です。母子健康手帳を持ってきてください。",
                ],
            ),
            (
                "子ども医療費助成",
                [
                    "18歳になって最初の3月31日までの子どもの医療費を全額助成します。",
                    "町外の医療機関で受診したときは、領収書を持って申請してください。",
                ],
            ),
            (
                "病児保育",
                [
                    "町立診療所に併設した病児保育室「ひだまり」で、",
                    "病気の子ども（生後6か月から小学6年生まで）を預かります。",
                    "利用料は1日2,000円で、前日までに予約が必要です。",
                ],
            ),
        ],
    ),
    (
        "ひとり親家庭への支援",
        [
            (
                "児童扶養手当",
                [
                    "ひとり親家庭の子どもを育てている方に、所得に応じて児童扶養手当を支給します。",
                    "申請は子育て支援課で受け付けています。",
                ],
            ),
            (
                "ひとり親家庭等医療費助成",
                [
                    "ひとり親家庭の親と子の医療費の自己負担分を助成します（所得制限あり）。",
                ],
            ),
            (
                "相談窓口",
                [
                    "子育ての悩みや家庭の困りごとは、子ども家庭センターにご相談ください。",
                    "子ども家庭センター（保健センター内） 電話 01234-5-1120",
                    "受付 平日8時30分から17時15分まで",
                ],
            ),
            (
                "お問い合わせ",
                [
                    "お問い合わせ：子育て支援課 電話 01234-5-1104",
                ],
            ),
        ],
    ),
]


def build(out: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    c = canvas.Canvas(str(out), pagesize=A4, invariant=1)  # invariant: same bytes every run
    c.setTitle("みどり川町 子育てガイドブック")
    c.setAuthor("みどり川町 子育て支援課（架空の町）")
    _, height = A4
    for title, sections in PAGES:
        y = height - 70
        c.setFont(FONT, 18)
        c.drawString(50, y, title)
        y -= 40
        for heading, lines in sections:
            c.setFont(FONT, 14)
            c.drawString(50, y, heading)
            y -= 24
            c.setFont(FONT, 11)
            for line in lines:
                c.drawString(62, y, line)
                y -= 18
            y -= 12
        c.showPage()
    c.save()


if __name__ == "__main__":
    target = Path(__file__).with_name("pdf") / "kosodate_guide.pdf"
    target.parent.mkdir(exist_ok=True)
    build(target)
    print(f"wrote {target}")
