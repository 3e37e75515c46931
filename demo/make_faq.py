"""Writes demo/faq.csv: the FAQ of the fictional town of みどり川町 (written by the madoguchi authors).

Kept as a script so the rows stay readable in review; the CSV it writes (UTF-8 with
BOM, the 自治体標準オープンデータセット「よくある質問」 layout plus URL) is committed too.
"""

import csv
from pathlib import Path

CODE, TOWN = "019999", "北海道みどり川町"
BASE = "https://www.town.midorikawa.example.jp"
D = {
    "住民課": "01234-5-1101",
    "税務課": "01234-5-1102",
    "環境衛生課": "01234-5-1103",
    "子育て支援課": "01234-5-1104",
    "保健福祉課": "01234-5-1105",
    "総務課防災係": "01234-5-1106",
    "上下水道課": "01234-5-1107",
    "建設課": "01234-5-1108",
    "教育委員会生涯学習課": "01234-5-1109",
    "企画課": "01234-5-1110",
}

ROWS = [
    # ごみ
    (
        "粗大ごみはどのように出せばよいですか。",
        "家具（たんす、ソファ、ベッドなど）や自転車、布団など、指定袋に入らない大きなごみは粗大ごみです。粗大ごみは事前申込制です。収集日の3日前までに環境衛生課（01234-5-1103）へ電話で申し込み、役場や町内の商店で販売している粗大ごみ処理券（1点500円）を貼って、指定された日の朝8時までに玄関先へ出してください。一度に出せるのは5点までです。",
        "環境衛生課",
        "/kurashi/gomi/sodai.html",
    ),
    (
        "テレビや冷蔵庫を処分したいのですが、粗大ごみで出せますか。",
        "テレビ、エアコン、冷蔵庫・冷凍庫、洗濯機・衣類乾燥機は家電リサイクル法の対象のため、町の粗大ごみでは収集できません。購入した店または買い替えをする店に引き取りを依頼するか、郵便局で家電リサイクル券を購入して指定引取場所（みどり川運送 第2倉庫）へ持ち込んでください。",
        "環境衛生課",
        "/kurashi/gomi/kaden.html",
    ),
    (
        "燃やすごみの収集日はいつですか。",
        "燃やすごみは、東地区が月曜日と木曜日、西地区が火曜日と金曜日です。収集日の朝8時までに、町指定の黄色いごみ袋に入れて地区のごみステーションへ出してください。祝日も収集します（年末年始を除く）。",
        "環境衛生課",
        "/kurashi/gomi/calendar.html",
    ),
    (
        "指定ごみ袋はどこで買えますか。値段はいくらですか。",
        "町指定ごみ袋は町内のスーパー、コンビニエンスストア、役場1階の売店で販売しています。燃やすごみ用（黄色）は大が10枚400円、小が10枚200円、燃やさないごみ用（青色）は10枚300円です。",
        "環境衛生課",
        "/kurashi/gomi/fukuro.html",
    ),
    (
        "びんや缶、ペットボトルの出し方を教えてください。",
        "資源ごみは毎月第2水曜日と第4水曜日に収集します。びん・缶・ペットボトルは中をすすいで、それぞれ透明または半透明の袋に分けて出してください。ペットボトルのキャップとラベルははがしてプラスチック類へ出してください。",
        "環境衛生課",
        "/kurashi/gomi/shigen.html",
    ),
    (
        "スプレー缶やカセットボンベはどう捨てればよいですか。",
        "スプレー缶とカセットボンベは中身を使い切り、穴を開けずに「有害ごみ」として資源ごみの日に出してください。中身が残っているものは火災の原因になるため収集できません。",
        "環境衛生課",
        "/kurashi/gomi/yugai.html",
    ),
    (
        "引っ越しで大量に出たごみを自分で処理施設に持ち込めますか。",
        "みどり川町クリーンセンター（町内字東野123番地）へ自己搬入できます。受付は平日の午前9時から午後4時までで、10キログラムごとに100円の手数料がかかります。搬入の際は町内在住が確認できる免許証などを持参してください。",
        "環境衛生課",
        "/kurashi/gomi/hannyu.html",
    ),
    (
        "ごみステーションにカラスがごみを散らかして困っています。",
        "ごみステーションの管理は各町内会にお願いしていますが、防鳥ネットの購入費の半額（上限1万円）を町が補助しています。町内会長を通じて環境衛生課へ申請してください。",
        "環境衛生課",
        "/kurashi/gomi/net.html",
    ),
    # 住民票・戸籍・印鑑
    (
        "住民票の写しを取りたいのですが、どこで何が必要ですか。",
        "住民票の写しは役場1階の住民課窓口で請求できます。本人確認書類（運転免許証、マイナンバーカードなど）をお持ちください。手数料は1通300円です。同じ世帯の方以外が請求する場合は委任状が必要です。",
        "住民課",
        "/kurashi/koseki/juminhyo.html",
    ),
    (
        "コンビニで住民票や印鑑登録証明書は取れますか。",
        "マイナンバーカードをお持ちの方は、全国のコンビニエンスストアのマルチコピー機で住民票の写しと印鑑登録証明書を取得できます。利用時間は毎日午前6時30分から午後11時までで、手数料は1通200円と窓口より100円安くなっています。",
        "住民課",
        "/kurashi/koseki/konbini.html",
    ),
    (
        "戸籍謄本がほしいのですが、どうすればよいですか。",
        "戸籍謄本（全部事項証明書）は本籍地の役場で請求できます。みどり川町に本籍がある方は住民課窓口で1通450円です。令和6年3月からは、本籍地が他の市区町村でも住民課窓口でまとめて請求できる広域交付が利用できます（本人確認書類が必要です）。",
        "住民課",
        "/kurashi/koseki/koseki.html",
    ),
    (
        "印鑑登録をしたいです。",
        "印鑑登録は、登録する印鑑と本人確認書類を持って、ご本人が住民課窓口へお越しください。登録は無料で、その場で印鑑登録証（カード）をお渡しします。代理人が申請する場合は、後日照会書を郵送するため即日登録できません。",
        "住民課",
        "/kurashi/koseki/inkan.html",
    ),
    (
        "役場の窓口は何時から何時まで開いていますか。",
        "役場の窓口は平日の午前8時30分から午後5時15分までです。毎週水曜日は住民課の一部窓口（住民票・印鑑証明・戸籍の証明書発行）に限り午後7時まで延長しています。土曜日・日曜日・祝日と年末年始（12月29日から1月3日）は閉庁です。",
        "住民課",
        "/kurashi/madoguchi.html",
    ),
    (
        "証明書を郵送で請求できますか。",
        "住民票の写しや戸籍の証明書は郵送でも請求できます。請求書（町ホームページからダウンロード可）、本人確認書類の写し、手数料分の定額小為替、切手を貼った返信用封筒を住民課証明係あてに送ってください。届くまで1週間ほどかかります。",
        "住民課",
        "/kurashi/koseki/yuso.html",
    ),
    # 転入・転出
    (
        "みどり川町に引っ越してきました。どんな手続きが必要ですか。",
        "引っ越してきた日から14日以内に住民課窓口で転入届を出してください。前の住所地で発行された転出証明書（マイナンバーカードによる転出届をした方は不要）、本人確認書類、マイナンバーカードをお持ちください。あわせて国民健康保険、児童手当、水道の使用開始などの手続きが必要な場合があります。",
        "住民課",
        "/kurashi/koseki/tennyu.html",
    ),
    (
        "町外へ引っ越すときの手続きを教えてください。",
        "町外へ引っ越す方は、引っ越し前（おおむね14日前から）に住民課窓口で転出届を出し、転出証明書を受け取ってください。マイナンバーカードをお持ちの方はマイナポータルからオンラインで転出届ができます。国民健康保険証や各種受給者証の返却も必要です。",
        "住民課",
        "/kurashi/koseki/tenshutsu.html",
    ),
    (
        "町内で引っ越しをしたときは届け出が必要ですか。",
        "町内で住所が変わったときは、引っ越した日から14日以内に住民課窓口で転居届を出してください。本人確認書類と、お持ちの方はマイナンバーカードを持参してください。",
        "住民課",
        "/kurashi/koseki/tenkyo.html",
    ),
    # マイナンバー
    (
        "マイナンバーカードの申請方法を教えてください。",
        "マイナンバーカードは、通知書に付いている申請書を郵送するか、スマートフォンやパソコンからオンラインで申請できます。役場住民課では申請用の顔写真を無料で撮影し、申請を手伝う窓口を設けています。カードの受け取りは申請から約1か月後で、受け取りの際は予約が必要です。",
        "住民課",
        "/kurashi/mynumber/shinsei.html",
    ),
    (
        "マイナンバーカードの暗証番号を忘れてしまいました。",
        "暗証番号を忘れた場合やロックがかかった場合は、マイナンバーカードと本人確認書類を持ってご本人が住民課窓口で再設定してください。手数料はかかりません。",
        "住民課",
        "/kurashi/mynumber/pin.html",
    ),
    # 税
    (
        "町民税の納め方にはどんな方法がありますか。",
        "町民税・固定資産税・軽自動車税は、納付書による金融機関・コンビニエンスストアでの支払いのほか、口座振替、スマートフォン決済アプリ（PayPay、楽天ペイ）、クレジットカード（手数料が別途かかります）で納められます。",
        "税務課",
        "/kurashi/zei/nofu.html",
    ),
    (
        "税金を口座振替にしたいです。",
        "口座振替を希望する方は、通帳と通帳の届出印を持って町内の金融機関か税務課窓口で口座振替依頼書を提出してください。手続きから振替開始まで1か月から2か月ほどかかります。",
        "税務課",
        "/kurashi/zei/furikae.html",
    ),
    (
        "軽自動車を廃車にしたら、税金はどうなりますか。",
        "軽自動車税は毎年4月1日時点の所有者に1年分が課税され、月割りの還付はありません。廃車や名義変更は3月31日までに手続きを済ませてください。原付バイクと小型特殊自動車の廃車手続きは税務課窓口で行えます。",
        "税務課",
        "/kurashi/zei/keijidosha.html",
    ),
    (
        "所得証明書（課税証明書）はどこでもらえますか。",
        "所得・課税証明書は税務課窓口で1通300円で発行しています。その年の1月1日にみどり川町に住んでいた方が対象です。マイナンバーカードを使えばコンビニエンスストアでも1通200円で取得できます。",
        "税務課",
        "/kurashi/zei/shomei.html",
    ),
    (
        "固定資産税の納期はいつですか。",
        "固定資産税の納期は年4回で、第1期が5月末日、第2期が7月末日、第3期が9月末日、第4期が12月25日です。納税通知書は5月上旬に送付します。",
        "税務課",
        "/kurashi/zei/kotei.html",
    ),
    # 国保・年金・介護
    (
        "会社を辞めたので国民健康保険に入りたいです。",
        "会社の健康保険をやめた日から14日以内に、住民課国保年金係で国民健康保険の加入手続きをしてください。健康保険の資格喪失証明書、本人確認書類、マイナンバーがわかるものが必要です。保険料は加入した月までさかのぼって計算されます。",
        "住民課",
        "/kurashi/kokuho/kanyu.html",
    ),
    (
        "就職して会社の健康保険に入りました。国保はどうすればいいですか。",
        "会社の健康保険に加入した日から14日以内に、国民健康保険の脱退手続きを住民課国保年金係でしてください。新しい保険の資格がわかるもの（資格確認書や資格情報のお知らせなど）と本人確認書類をお持ちください。手続きをしないと保険料の請求が続きます。",
        "住民課",
        "/kurashi/kokuho/dattai.html",
    ),
    (
        "国民健康保険料が払えないときはどうすればよいですか。",
        "失業や災害、病気などで保険料の納付が難しいときは、保険料の減免や分割納付の相談ができます。納期限を過ぎる前に住民課国保年金係へご相談ください。",
        "住民課",
        "/kurashi/kokuho/genmen.html",
    ),
    (
        "国民年金の保険料を払うのが難しいです。",
        "所得が少ないなどの理由で国民年金保険料を納めることが難しい場合は、保険料の免除・納付猶予制度があります。申請は住民課国保年金係の窓口で受け付けています。年金手帳または基礎年金番号通知書と本人確認書類をお持ちください。",
        "住民課",
        "/kurashi/nenkin/menjo.html",
    ),
    (
        "介護保険のサービスを利用したいのですが。",
        "介護サービスを利用するには要介護（要支援）認定を受ける必要があります。保健福祉課介護保険係に申請すると、調査員がご自宅を訪問して聞き取り調査を行い、主治医の意見書とあわせて審査します。結果は申請からおおむね30日で通知します。",
        "保健福祉課",
        "/kurashi/kaigo/nintei.html",
    ),
    # 子育て
    (
        "児童手当をもらうにはどうすればいいですか。",
        "子どもが生まれたり転入したりしたときは、翌日から15日以内に子育て支援課で児童手当の認定請求をしてください。請求者名義の通帳（またはキャッシュカード）と本人確認書類が必要です。手当は高校生年代まで支給され、偶数月（2月、4月、6月、8月、10月、12月）に前月分までを振り込みます。",
        "子育て支援課",
        "/kosodate/jidoteate.html",
    ),
    (
        "児童手当の金額はいくらですか。",
        "児童手当の月額は、3歳未満が1万5千円、3歳から高校生年代までが1万円です。第3子以降は年齢にかかわらず3万円です。所得制限はありません。",
        "子育て支援課",
        "/kosodate/jidoteate-gaku.html",
    ),
    (
        "保育所に入りたいのですが、申し込みはいつですか。",
        "4月からの保育所入所の申し込みは、前年の11月1日から11月30日まで子育て支援課で受け付けます。年度途中の入所は、入所希望月の前月10日までに申し込んでください。町内の保育所は、みどり川保育所と東野こども園の2か所です。",
        "子育て支援課",
        "/kosodate/hoikusho.html",
    ),
    (
        "子どもの医療費は助成されますか。",
        "みどり川町では、18歳になって最初の3月31日までの子どもの通院・入院の医療費（保険診療の自己負担分）を全額助成しています。出生や転入のときに子育て支援課で申請すると受給者証を交付します。",
        "子育て支援課",
        "/kosodate/iryohi.html",
    ),
    (
        "放課後に子どもを預かってくれるところはありますか。",
        "小学生を対象に、放課後児童クラブ「みどりっこクラブ」を中央小学校の敷地内で開設しています。利用時間は授業終了後から午後6時30分までで、利用料は月額3,000円（おやつ代別）です。申し込みは子育て支援課へ。",
        "子育て支援課",
        "/kosodate/gakudo.html",
    ),
    (
        "子どもの予防接種はどこで受けられますか。",
        "乳幼児の定期予防接種は、町と契約している医療機関（みどり川町立診療所、さくら小児科クリニック）で受けられます。予診票は出生届のあとに郵送する「すこやか手帳セット」に入っています。接種費用は無料です。",
        "保健福祉課",
        "/kenko/yobosesshu.html",
    ),
    # 福祉・健康
    (
        "高齢者インフルエンザの予防接種に補助はありますか。",
        "65歳以上の方のインフルエンザ予防接種は、10月1日から翌年1月31日まで、自己負担1,500円で受けられます。生活保護世帯の方は無料です。町内の協力医療機関に直接予約してください。",
        "保健福祉課",
        "/kenko/influenza.html",
    ),
    (
        "特定健診（健康診断）はいつ受けられますか。",
        "40歳から74歳までの国民健康保険加入者を対象に、毎年6月と10月に保健センターで集団健診を行います。自己負担は500円です。対象の方には5月に受診券を郵送します。",
        "保健福祉課",
        "/kenko/tokuteikenshin.html",
    ),
    (
        "障害者手帳の申請はどこでしますか。",
        "身体障害者手帳、療育手帳、精神障害者保健福祉手帳の申請は保健福祉課福祉係で受け付けています。手帳の種類によって必要な診断書や写真が異なりますので、事前にお問い合わせください。",
        "保健福祉課",
        "/fukushi/techo.html",
    ),
    # 防災
    (
        "災害のときの避難所はどこですか。",
        "町の指定避難所は、みどり川町総合体育館、中央小学校体育館、東野地区センターなど7か所です。避難所の一覧と地図は町ホームページの「防災ガイド」と、全戸に配布しているハザードマップに載っています。",
        "総務課防災係",
        "/bousai/hinanjo.html",
    ),
    (
        "ハザードマップはどこでもらえますか。",
        "洪水・土砂災害ハザードマップは令和6年度に改訂し、全戸に配布しました。なくした方や転入された方には、役場総務課防災係の窓口でお渡しします。町ホームページからPDFでダウンロードすることもできます。",
        "総務課防災係",
        "/bousai/hazardmap.html",
    ),
    (
        "防災無線の放送が聞き取れませんでした。",
        "防災行政無線で放送した内容は、放送後24時間、電話応答サービス（0120-000-456、通話無料）で聞き直せます。町の防災メールに登録すると、同じ内容をメールでも受け取れます。",
        "総務課防災係",
        "/bousai/musen.html",
    ),
    (
        "防災メールに登録したいです。",
        "「みどり川町防災メール」は、bousai@town.midorikawa.example.jp へ空メールを送り、返信されたメールの案内に従って登録してください。気象警報、避難情報、断水情報などをお知らせします。登録は無料です（通信料は利用者負担）。",
        "総務課防災係",
        "/bousai/mail.html",
    ),
    # 水道
    (
        "水道の使用を始めたい（止めたい）ときはどうすればいいですか。",
        "水道の使用開始・中止は、使用する日（止める日）の3日前までに上下水道課へ電話または窓口で連絡してください。引っ越しの際は、お客様番号（検針票に記載）がわかると手続きがスムーズです。",
        "上下水道課",
        "/kurashi/suido/kaishi.html",
    ),
    (
        "水道料金はいくらですか。",
        "一般家庭の水道料金は2か月ごとに請求し、基本料金（20立方メートルまで）が2,640円、20立方メートルを超える分は1立方メートルにつき165円です（いずれも税込）。下水道使用料は別に請求します。",
        "上下水道課",
        "/kurashi/suido/ryokin.html",
    ),
    (
        "冬に水道管が凍って水が出ません。",
        "水道管が凍結したときは、蛇口を開けたまま凍った部分にタオルをかぶせ、ぬるま湯をゆっくりかけて溶かしてください。熱湯をかけると管が破裂するおそれがあります。破裂して水が漏れているときは、上下水道課指定の工事店に修理を依頼してください。",
        "上下水道課",
        "/kurashi/suido/toketsu.html",
    ),
    # 住宅・道路
    (
        "町営住宅に申し込みたいのですが。",
        "町営住宅の入居者は空き室が出たときに随時募集し、町ホームページと広報みどりかわでお知らせします。申し込みには収入基準などの条件があります。申込書は建設課で配布しています。",
        "建設課",
        "/kurashi/jutaku/boshu.html",
    ),
    (
        "道路に穴が開いていて危ないです。",
        "町道の陥没や街灯の故障、カーブミラーの破損などを見つけたときは、場所がわかるように建設課へ連絡してください。町の公式LINEから写真を付けて通報することもできます。国道・道道の場合は管理する道路事務所へお伝えします。",
        "建設課",
        "/kurashi/doro/tsuho.html",
    ),
    (
        "冬の除雪はいつしてもらえますか。",
        "町道の除雪は、降雪が10センチメートルを超えたときに早朝4時ごろから出動します。通学路とバス路線を優先し、その後に生活道路を除雪します。家の前に残った雪の処理はご協力をお願いします。",
        "建設課",
        "/kurashi/doro/josetsu.html",
    ),
    # 教育・施設
    (
        "町立図書館の開館時間を教えてください。",
        "みどり川町立図書館の開館時間は午前10時から午後6時まで（金曜日は午後8時まで）です。休館日は月曜日、祝日の翌日、毎月最終木曜日と年末年始です。本は1人10冊まで2週間借りられます。",
        "教育委員会生涯学習課",
        "/shisetsu/toshokan.html",
    ),
    (
        "公民館の部屋を借りたいです。",
        "中央公民館の会議室や和室は、使用日の2か月前から7日前までに生涯学習課へ申し込んでください。使用料は会議室が1時間300円、大ホールが1時間1,500円です。町内の社会教育団体は減免を受けられます。",
        "教育委員会生涯学習課",
        "/shisetsu/kominkan.html",
    ),
    (
        "町民プールはいつ利用できますか。",
        "町民プールは7月第1土曜日から8月31日までの期間、午前10時から午後5時まで営業します。利用料は大人300円、中学生以下100円です。悪天候の日は休業することがあります。",
        "教育委員会生涯学習課",
        "/shisetsu/pool.html",
    ),
    (
        "小学校に入学する子どもがいます。手続きはありますか。",
        "翌年4月に小学校へ入学するお子さんのいる家庭には、10月末に就学時健康診断の案内を、1月末に入学通知書を郵送します。町外の学校への入学や、住所と違う学区の学校を希望する場合は、教育委員会へご相談ください。",
        "教育委員会生涯学習課",
        "/kosodate/nyugaku.html",
    ),
    # 交通・ペット・その他
    (
        "町営バスの運賃はいくらですか。",
        "町営バスの運賃は、町内どこまで乗っても大人200円、小学生100円です。70歳以上の方と障害者手帳をお持ちの方は、役場で交付する「ゆうゆうパス」を見せると無料で乗れます。",
        "企画課",
        "/kurashi/bus/unchin.html",
    ),
    (
        "犬を飼い始めました。登録は必要ですか。",
        "生後91日以上の犬を飼い始めたら、30日以内に環境衛生課で登録してください（登録手数料3,000円）。また、毎年4月から6月に狂犬病予防注射を受けさせる必要があります。4月に町内各地で集合注射を行います（注射料金と注射済票交付手数料で3,300円）。",
        "環境衛生課",
        "/kurashi/pet/inu.html",
    ),
    (
        "飼い犬が亡くなったときの手続きは？",
        "飼い犬が死亡したときは、30日以内に環境衛生課へ死亡届を出してください。犬の鑑札と注射済票をお持ちください。遺体は、みどり川町クリーンセンターで有料（1体2,000円）で引き取っています。",
        "環境衛生課",
        "/kurashi/pet/shibo.html",
    ),
    (
        "空き家バンクに物件を登録したいです。",
        "町内の空き家を売りたい・貸したい方は、企画課で空き家バンクへの登録を受け付けています。登録は無料で、登録された物件は町の移住定住サイトで紹介します。家財の片付けに使える補助金（上限20万円）もあります。",
        "企画課",
        "/iju/akiya.html",
    ),
    (
        "結婚したときの届け出は何が必要ですか。",
        "婚姻届は、どちらかの本籍地または住所地、または届出人の所在地の役場に出します。住民課では24時間受け付けています（閉庁時は宿直窓口）。成人の証人2人の署名と本人確認書類が必要です。",
        "住民課",
        "/kurashi/koseki/konin.html",
    ),
    (
        "家族が亡くなったときの手続きについて知りたいです。",
        "死亡届は、亡くなったことを知った日から7日以内に届け出てください。役場ではお悔やみ窓口（予約制）を設け、国民健康保険、年金、介護保険、税などの手続きを1か所でご案内しています。予約は住民課へお電話ください。",
        "住民課",
        "/kurashi/koseki/okuyami.html",
    ),
    (
        "住宅をリフォームするときに補助金はありますか。",
        "町内の施工業者を使って自宅をリフォームする場合、工事費の20パーセント（上限30万円）を補助します。耐震改修や断熱改修には上乗せがあります。工事の契約前に建設課へ申請してください。",
        "建設課",
        "/kurashi/jutaku/reform.html",
    ),
    (
        "ふるさと納税の返礼品について教えてください。",
        "ふるさと納税の受付と返礼品の案内は企画課が担当しています。返礼品には、みどり川産のアスパラガス、じゃがいも、乳製品、木工品などがあります。町外にお住まいの方が対象で、町内在住の方には返礼品をお送りできません。",
        "企画課",
        "/furusato.html",
    ),
]

assert len(ROWS) == 60, len(ROWS)
out = Path(__file__).with_name("faq.csv")
with out.open("w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(
        [
            "ID",
            "地方公共団体コード",
            "地方公共団体名",
            "質問",
            "回答",
            "所管部署",
            "電話番号",
            "URL",
        ]
    )
    for i, (q, a, dept, path) in enumerate(ROWS, start=1):
        w.writerow([i, CODE, TOWN, q, a, dept, D[dept], BASE + path])
print(f"wrote {out} ({len(ROWS)} rows)")

# Translations of the entries foreign residents ask about most, written by us. Each
# language is its own file sharing the IDs of faq.csv (faq_en.csv, faq_zh-Hans.csv, ...),
# so the kit links them to the same entries; the other entries stay Japanese-only,
# as in most towns.
T: dict[str, dict[int, tuple[str, str]]] = {
    "en": {
        1: (
            "How do I put out oversized garbage?",
            "Furniture (chests, sofas, beds), bicycles, futons and other items too large for the designated bags are oversized garbage, collected by appointment only. Call the Environment and Sanitation Section (01234-5-1103) at least 3 days before the collection day, buy an oversized garbage ticket (500 yen per item) at the town office or a shop in town, stick it on the item and put it outside your entrance by 8 a.m. on the assigned day. Up to 5 items at a time.",
        ),
        2: (
            "Can I put out a TV or refrigerator as oversized garbage?",
            "TVs, air conditioners, refrigerators/freezers and washing machines/dryers fall under the Home Appliance Recycling Law, so the town cannot collect them. Ask the shop where you bought it (or where you buy a new one) to take it back, or buy a home appliance recycling ticket at the post office and bring the item to the designated collection point (Midorikawa Unso, Warehouse No. 2).",
        ),
        3: (
            "Which days is burnable garbage collected?",
            "Burnable garbage is collected on Mondays and Thursdays in the East district and on Tuesdays and Fridays in the West district. Put it in the town's yellow designated bag at your district's garbage station by 8 a.m. on collection day. Collection also takes place on public holidays (except the New Year holidays).",
        ),
        4: (
            "Where can I buy the designated garbage bags, and how much are they?",
            "Designated bags are sold at supermarkets and convenience stores in town and at the shop on the 1st floor of the town office. Burnable (yellow): large 400 yen for 10, small 200 yen for 10; non-burnable (blue): 300 yen for 10.",
        ),
        6: (
            "How do I throw away spray cans and gas canisters?",
            'Use up the contents, do not puncture them, and put them out as "hazardous waste" on a recyclables collection day. Cans with contents left can cause fires and are not collected.',
        ),
        9: (
            "Where can I get a copy of my residence certificate (juminhyo), and what do I need?",
            "Request it at the Residents Section counter on the 1st floor of the town office. Bring photo ID (driver's license, My Number Card, etc.). The fee is 300 yen per copy. Anyone not in your household needs a letter of proxy.",
        ),
        15: (
            "I have just moved to Midorikawa. What do I need to do?",
            "Submit a moving-in notification at the Residents Section counter within 14 days of moving. Bring the moving-out certificate from your previous municipality (not needed if you gave notice with your My Number Card), photo ID and your My Number Card. You may also need to arrange National Health Insurance, child allowance and the start of water service.",
        ),
        18: (
            "How do I apply for a My Number Card?",
            "Mail the application form attached to your notification, or apply online from a smartphone or computer. The Residents Section takes the ID photo for free and helps you apply at its counter. The card is ready about 1 month after you apply; you need an appointment to collect it.",
        ),
        25: (
            "I left my job. How do I join National Health Insurance?",
            "Within 14 days of leaving your company's health insurance, apply at the National Health Insurance and Pension desk of the Residents Section. Bring the certificate of loss of health insurance eligibility, photo ID and something showing your My Number. Premiums are charged back to the month you became eligible.",
        ),
        31: (
            "How much is the child allowance?",
            "The monthly child allowance is 15,000 yen for children under 3 and 10,000 yen from age 3 to high-school age. From the third child on it is 30,000 yen regardless of age. There is no income limit.",
        ),
        39: (
            "Where are the evacuation shelters for disasters?",
            'The town has 7 designated shelters, including the Midorikawa Town General Gymnasium, the Chuo Elementary School gym and the Higashino District Center. The list and map are in the "Disaster Prevention Guide" on the town website and on the hazard map delivered to every household.',
        ),
        53: (
            "How much is the town bus fare?",
            'Any ride within the town costs 200 yen for adults and 100 yen for elementary school children. People aged 70 or over and holders of a disability certificate ride free by showing the "Yuyu Pass" issued at the town office.',
        ),
        54: (
            "I got a dog. Do I need to register it?",
            "Register any dog 91 days old or older at the Environment and Sanitation Section within 30 days of getting it (registration fee 3,000 yen). Every year between April and June the dog must get a rabies vaccination; group vaccinations are held around town in April (3,300 yen for the shot and the vaccination tag).",
        ),
    },
    "zh-Hans": {
        1: (
            "大件垃圾怎么扔？",
            "家具（衣柜、沙发、床等）、自行车、被褥等装不进指定垃圾袋的大件物品属于大件垃圾，需事先预约。请在收集日3天前致电环境卫生课（01234-5-1103）预约，在町公所或町内商店购买大件垃圾处理券（每件500日元）贴在物品上，于指定日早上8点前放在家门口。每次最多5件。",
        ),
        2: (
            "电视、冰箱可以当大件垃圾扔吗？",
            "电视、空调、冰箱/冰柜、洗衣机/干衣机属于《家电回收法》对象，町里不作为大件垃圾收集。请委托购买或换新的商店回收，或在邮局购买家电回收券后送到指定回收点（绿川运送 第2仓库）。",
        ),
        3: (
            "可燃垃圾哪天收？",
            "可燃垃圾：东地区为周一和周四，西地区为周二和周五。请在收集日早上8点前装入町指定的黄色垃圾袋，放到所在地区的垃圾站。节假日照常收集（年末年初除外）。",
        ),
        4: (
            "指定垃圾袋在哪里买？多少钱？",
            "町指定垃圾袋在町内超市、便利店和町公所1楼小卖部有售。可燃垃圾用（黄色）大号10个400日元，小号10个200日元；不可燃垃圾用（蓝色）10个300日元。",
        ),
        6: (
            "喷雾罐和卡式气罐怎么扔？",
            "请用完里面的内容物，不要打孔，作为“有害垃圾”在资源垃圾收集日扔出。有残留的罐子可能引起火灾，不予收集。",
        ),
        9: (
            "住民票的副本在哪里办？需要带什么？",
            "请到町公所1楼住民课窗口申请。请携带身份证明（驾照、个人编号卡等）。手续费每份300日元。非同一户的人代办需要委托书。",
        ),
        15: (
            "我刚搬到绿川町，需要办哪些手续？",
            "请在搬来之日起14天内到住民课窗口办理迁入登记。请携带原住址发行的迁出证明（用个人编号卡办理迁出的人不需要）、身份证明和个人编号卡。另外可能还需要办理国民健康保险、儿童补贴、开通自来水等手续。",
        ),
        18: (
            "怎么申请个人编号卡？",
            "可以邮寄通知书附带的申请书，也可以用手机或电脑在线申请。町公所住民课可免费拍摄申请用照片，并设有协助申请的窗口。申请后约1个月可领卡，领取时需要预约。",
        ),
        25: (
            "我辞职了，想加入国民健康保险。",
            "请在退出公司健康保险之日起14天内，到住民课国保年金系办理加入手续。需要健康保险资格丧失证明、身份证明和能确认个人编号的材料。保险费从加入的月份开始追溯计算。",
        ),
        31: (
            "儿童补贴每月多少钱？",
            "儿童补贴月额：未满3岁为15,000日元，3岁至高中年龄为10,000日元。第3个孩子起不论年龄均为30,000日元。没有收入限制。",
        ),
        39: (
            "发生灾害时避难所在哪里？",
            "町指定避难所共7处，包括绿川町综合体育馆、中央小学体育馆、东野地区中心等。避难所一览和地图刊登在町网站的“防灾指南”以及发放到每户的灾害风险地图上。",
        ),
        53: (
            "町营巴士票价多少？",
            "町营巴士在町内乘坐任意距离，成人200日元，小学生100日元。70岁以上者和持有残疾人手册者出示町公所发放的“悠悠通行证”可免费乘坐。",
        ),
        54: (
            "开始养狗了，需要登记吗？",
            "饲养出生91天以上的狗，请在30天内到环境卫生课登记（登记手续费3,000日元）。另外每年4月至6月必须让狗接种狂犬病疫苗。4月在町内各地举行集体接种（注射费和注射证明牌手续费合计3,300日元）。",
        ),
    },
    "ko": {
        1: (
            "대형 쓰레기는 어떻게 버리나요?",
            "가구(옷장, 소파, 침대 등), 자전거, 이불 등 지정 봉투에 들어가지 않는 큰 쓰레기는 대형 쓰레기이며 사전 신청제입니다. 수거일 3일 전까지 환경위생과(01234-5-1103)에 전화로 신청하고, 관공서나 마을 상점에서 파는 대형 쓰레기 처리권(1점 500엔)을 붙여 지정일 아침 8시까지 현관 앞에 내놓으세요. 한 번에 5점까지 가능합니다.",
        ),
        3: (
            "타는 쓰레기는 무슨 요일에 수거하나요?",
            "타는 쓰레기는 동지구가 월요일과 목요일, 서지구가 화요일과 금요일입니다. 수거일 아침 8시까지 마을 지정 노란색 봉투에 넣어 지구 쓰레기 배출장소에 내놓으세요. 공휴일에도 수거합니다(연말연시 제외).",
        ),
        9: (
            "주민표 사본은 어디에서 발급받고 무엇이 필요한가요?",
            "관공서 1층 주민과 창구에서 신청할 수 있습니다. 신분증(운전면허증, 마이넘버 카드 등)을 지참하세요. 수수료는 1통 300엔입니다. 같은 세대가 아닌 사람이 신청할 때는 위임장이 필요합니다.",
        ),
        15: (
            "미도리카와초로 이사 왔습니다. 어떤 절차가 필요한가요?",
            "이사 온 날부터 14일 이내에 주민과 창구에 전입신고를 하세요. 이전 주소지에서 발행한 전출증명서(마이넘버 카드로 전출신고를 한 분은 불필요), 신분증, 마이넘버 카드를 지참하세요. 국민건강보험, 아동수당, 수도 사용 개시 등의 절차가 함께 필요할 수 있습니다.",
        ),
        25: (
            "회사를 그만둬서 국민건강보험에 가입하고 싶어요.",
            "회사 건강보험을 그만둔 날부터 14일 이내에 주민과 국보연금계에서 가입 절차를 하세요. 건강보험 자격상실증명서, 신분증, 마이넘버를 확인할 수 있는 서류가 필요합니다. 보험료는 가입 대상이 된 달까지 소급하여 계산됩니다.",
        ),
        31: (
            "아동수당은 얼마인가요?",
            "아동수당 월액은 3세 미만 15,000엔, 3세부터 고등학생 연령까지 10,000엔입니다. 셋째 아이부터는 나이와 관계없이 30,000엔입니다. 소득 제한은 없습니다.",
        ),
        39: (
            "재해 때 대피소는 어디인가요?",
            "마을 지정 대피소는 미도리카와초 종합체육관, 주오초등학교 체육관, 히가시노지구센터 등 7곳입니다. 대피소 목록과 지도는 마을 홈페이지의 '방재 가이드'와 모든 가구에 배포한 해저드 맵에 있습니다. 문의: 총무과 방재계 01234-5-1106",
        ),
        53: (
            "마을 버스 요금은 얼마인가요?",
            "마을 버스는 마을 안 어디까지 타도 성인 200엔, 초등학생 100엔입니다. 70세 이상과 장애인 수첩 소지자는 관공서에서 발급하는 '유유 패스'를 보여주면 무료입니다.",
        ),
        54: (
            "개를 키우기 시작했는데 등록이 필요한가요?",
            "생후 91일 이상의 개를 키우기 시작하면 30일 이내에 환경위생과에서 등록하세요(등록 수수료 3,000엔). 또 매년 4월부터 6월 사이에 광견병 예방주사를 맞혀야 합니다. 4월에 마을 곳곳에서 집단 접종을 합니다(주사비와 주사필증 발급 수수료 합계 3,300엔).",
        ),
    },
    "vi": {
        1: (
            "Làm thế nào để vứt rác cỡ lớn?",
            "Đồ nội thất (tủ, sofa, giường…), xe đạp, chăn nệm và những thứ không vừa túi rác chỉ định là rác cỡ lớn, phải đăng ký trước. Hãy gọi cho Phòng Vệ sinh Môi trường (01234-5-1103) ít nhất 3 ngày trước ngày thu gom, mua phiếu xử lý rác cỡ lớn (500 yên/món) ở tòa thị chính hoặc cửa hàng trong thị trấn, dán lên đồ và để trước cửa nhà trước 8 giờ sáng ngày được chỉ định. Mỗi lần tối đa 5 món.",
        ),
        6: (
            "Làm thế nào để vứt bình xịt và bình ga mini?",
            'Hãy dùng hết bên trong, không đục lỗ, và bỏ ra như "rác nguy hại" vào ngày thu gom rác tài nguyên. Bình còn sót bên trong có thể gây cháy nên không được thu gom.',
        ),
        9: (
            "Tôi muốn lấy bản sao phiếu cư trú (juminhyo). Làm ở đâu và cần gì?",
            "Bạn có thể yêu cầu tại quầy Phòng Cư dân, tầng 1 tòa thị chính. Mang theo giấy tờ tùy thân (bằng lái xe, thẻ My Number…). Lệ phí 300 yên/bản. Người không cùng hộ cần giấy ủy quyền.",
        ),
        25: (
            "Tôi đã nghỉ việc, muốn tham gia bảo hiểm y tế quốc dân.",
            "Trong vòng 14 ngày kể từ ngày rời bảo hiểm y tế của công ty, hãy làm thủ tục tại bộ phận Bảo hiểm Quốc dân – Hưu trí của Phòng Cư dân. Cần giấy chứng nhận mất tư cách bảo hiểm, giấy tờ tùy thân và giấy tờ cho biết số My Number. Phí bảo hiểm được tính truy hồi từ tháng bạn thuộc diện tham gia.",
        ),
        31: (
            "Trợ cấp nhi đồng là bao nhiêu?",
            "Trợ cấp nhi đồng hằng tháng: dưới 3 tuổi 15.000 yên, từ 3 tuổi đến tuổi học cấp 3 là 10.000 yên. Từ con thứ 3 trở đi là 30.000 yên bất kể tuổi. Không giới hạn thu nhập.",
        ),
        39: (
            "Khi có thiên tai, nơi lánh nạn ở đâu?",
            'Thị trấn có 7 nơi lánh nạn chỉ định, gồm Nhà thi đấu tổng hợp thị trấn Midorikawa, nhà thể chất Trường tiểu học Chuo, Trung tâm khu Higashino… Danh sách và bản đồ có trong "Hướng dẫn phòng chống thiên tai" trên trang web của thị trấn và trên bản đồ nguy cơ đã phát cho mọi hộ.',
        ),
        53: (
            "Giá vé xe buýt của thị trấn là bao nhiêu?",
            'Đi bất kỳ đâu trong thị trấn: người lớn 200 yên, học sinh tiểu học 100 yên. Người từ 70 tuổi trở lên và người có sổ khuyết tật được đi miễn phí khi xuất trình "Yuyu Pass" do tòa thị chính cấp.',
        ),
    },
    "pt": {
        1: (
            "Como descartar lixo de grande porte?",
            "Móveis (armários, sofás, camas), bicicletas, futons e outros itens que não cabem nos sacos oficiais são lixo de grande porte, coletado somente com agendamento. Ligue para a Seção de Meio Ambiente e Saneamento (01234-5-1103) até 3 dias antes da coleta, compre o selo de lixo de grande porte (500 ienes por item) na prefeitura ou em lojas da cidade, cole-o no item e deixe-o na frente da entrada até as 8h do dia marcado. Até 5 itens por vez.",
        ),
        4: (
            "Onde compro os sacos de lixo oficiais e quanto custam?",
            "Os sacos oficiais são vendidos em supermercados e lojas de conveniência da cidade e na loja do 1º andar da prefeitura. Lixo queimável (amarelo): grande, 400 ienes por 10; pequeno, 200 ienes por 10. Lixo não queimável (azul): 300 ienes por 10.",
        ),
        9: (
            "Onde tiro uma cópia do atestado de residência (juminhyo) e o que preciso levar?",
            "Peça no balcão da Seção de Residentes, no 1º andar da prefeitura. Leve um documento de identidade (carteira de motorista, cartão My Number etc.). A taxa é de 300 ienes por cópia. Quem não é do mesmo domicílio precisa de procuração.",
        ),
        15: (
            "Acabei de me mudar para Midorikawa. Que procedimentos preciso fazer?",
            "Entregue a notificação de mudança no balcão da Seção de Residentes em até 14 dias após a mudança. Leve o certificado de saída emitido pelo município anterior (dispensado para quem o fez com o cartão My Number), documento de identidade e o cartão My Number. Também pode ser preciso tratar do Seguro Nacional de Saúde, do auxílio infantil e da ligação da água.",
        ),
        31: (
            "Qual é o valor do auxílio infantil?",
            "O auxílio infantil mensal é de 15.000 ienes para menores de 3 anos e 10.000 ienes dos 3 anos até a idade do ensino médio. A partir do terceiro filho, 30.000 ienes, qualquer que seja a idade. Não há limite de renda.",
        ),
        53: (
            "Quanto custa a passagem do ônibus municipal?",
            'Qualquer trajeto dentro da cidade custa 200 ienes para adultos e 100 ienes para alunos do ensino fundamental. Pessoas com 70 anos ou mais e portadores de caderneta de deficiência viajam de graça mostrando o "Yuyu Pass" emitido pela prefeitura.',
        ),
        54: (
            "Comecei a criar um cachorro. Preciso registrá-lo?",
            "Registre o cão com 91 dias de vida ou mais na Seção de Meio Ambiente e Saneamento em até 30 dias (taxa de registro de 3.000 ienes). Todo ano, entre abril e junho, ele deve tomar a vacina antirrábica; em abril há vacinação coletiva em vários locais da cidade (3.300 ienes pela vacina e pela plaqueta).",
        ),
    },
    "es": {
        1: (
            "¿Cómo saco la basura de gran tamaño?",
            "Los muebles (armarios, sofás, camas), bicicletas, futones y demás objetos que no caben en las bolsas oficiales son basura de gran tamaño y se recogen solo con cita previa. Llame a la Sección de Medio Ambiente y Sanidad (01234-5-1103) al menos 3 días antes, compre el boleto para basura de gran tamaño (500 yenes por objeto) en el ayuntamiento o en tiendas del pueblo, péguelo en el objeto y déjelo delante de su entrada antes de las 8 de la mañana del día indicado. Hasta 5 objetos cada vez.",
        ),
        9: (
            "¿Dónde saco una copia del certificado de residencia (juminhyo) y qué necesito?",
            "Solicítela en la ventanilla de la Sección de Residentes, en la planta 1 del ayuntamiento. Traiga un documento de identidad (licencia de conducir, tarjeta My Number, etc.). La tasa es de 300 yenes por copia. Quien no sea de su mismo hogar necesita una carta poder.",
        ),
    },
    "tl": {
        1: (
            "Paano magtapon ng malalaking basura?",
            "Ang muwebles (aparador, sopa, kama), bisikleta, futon at iba pang hindi kasya sa itinakdang supot ay malalaking basura, at kinokolekta lamang kapag may paunang aplikasyon. Tumawag sa Seksyon ng Kapaligiran at Kalinisan (01234-5-1103) hanggang 3 araw bago ang araw ng koleksyon, bumili ng tiket para sa malalaking basura (500 yen bawat isa) sa munisipyo o sa mga tindahan sa bayan, idikit ito at ilabas sa harap ng inyong pasukan bago mag-8 ng umaga sa itinakdang araw. Hanggang 5 piraso bawat beses.",
        ),
        9: (
            "Saan kukuha ng kopya ng residence certificate (juminhyo), at ano ang kailangan?",
            "Mag-request sa counter ng Seksyon ng mga Residente, ika-1 palapag ng munisipyo. Magdala ng ID (lisensya sa pagmamaneho, My Number Card, atbp.). Ang bayad ay 300 yen bawat kopya. Kailangan ng sulat ng awtorisasyon kung hindi kasambahay ang kukuha.",
        ),
    },
    "ne": {
        1: (
            "ठूला फोहोर कसरी फाल्ने?",
            "फर्निचर (दराज, सोफा, खाट), साइकल, डसना आदि तोकिएको झोलामा नअट्ने ठूला सामान ठूलो फोहोर हो, र पहिले आवेदन दिनुपर्छ। सङ्कलन दिनभन्दा कम्तीमा 3 दिनअघि वातावरण तथा सरसफाइ शाखा (01234-5-1103) मा फोन गर्नुहोस्, नगरपालिका वा नगरका पसलमा ठूलो फोहोर टिकट (प्रति सामान 500 येन) किनेर टाँस्नुहोस्, र तोकिएको दिन बिहान 8 बजेभित्र ढोकाअगाडि राख्नुहोस्। एक पटकमा 5 वटासम्म।",
        ),
        9: (
            "बसोबास प्रमाणपत्र (जुमिन्ह्यो) को प्रतिलिपि कहाँ पाइन्छ, के चाहिन्छ?",
            "नगरपालिकाको पहिलो तलामा रहेको बासिन्दा शाखाको काउन्टरमा माग्न सकिन्छ। परिचयपत्र (सवारी चालक अनुमतिपत्र, माइ नम्बर कार्ड आदि) ल्याउनुहोस्। शुल्क प्रति प्रति 300 येन। एउटै घरपरिवारबाहेकका व्यक्तिलाई अख्तियारनामा चाहिन्छ।",
        ),
    },
    "zh-Hant": {
        1: (
            "大型垃圾要怎麼丟？",
            "家具（衣櫃、沙發、床等）、腳踏車、棉被等裝不進指定垃圾袋的大型物品屬於大型垃圾，須事先預約。請在收集日3天前致電環境衛生課（01234-5-1103）預約，在町公所或町內商店購買大型垃圾處理券（每件500日圓）貼在物品上，於指定日早上8點前放在家門口。每次最多5件。",
        ),
        9: (
            "住民票的副本在哪裡辦？需要帶什麼？",
            "請到町公所1樓住民課窗口申請。請攜帶身分證明（駕照、個人編號卡等）。手續費每份300日圓。非同一戶的人代辦需要委託書。",
        ),
    },
    "ja-easy": {
        1: (
            "大きい ごみは どう 出しますか",
            "大きい ごみ（たんす、ソファ、ベッド、自転車、ふとん など）は、先に 申し込みが 必要です。集める 日の 3日前までに 環境衛生課（01234-5-1103）に 電話して ください。役場や 町の 店で 券（1つ 500円）を 買って、ごみに はります。決められた 日の 朝8時までに 家の 前に 出して ください。1回に 5つまでです。",
        ),
        9: (
            "住民票は どこで もらえますか",
            "役場の 1階の 住民課で もらえます。運転免許証や マイナンバーカードなど、自分の ことが わかる カードを 持って きて ください。1枚 300円です。同じ 家に 住んで いない 人が もらう ときは、委任状が いります。",
        ),
    },
}

for lang, entries in T.items():
    path = Path(__file__).with_name(f"faq_{lang}.csv")
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["ID", "Question", "Answer"])
        for i in sorted(entries):
            w.writerow([i, *entries[i]])
    print(f"wrote {path} ({len(entries)} rows)")
