from madoguchi.kit import facts


def test_the_kind_of_fact_a_question_asks_for():
    assert facts.asked("防災ラジオ、市から買うといくら？") == ("fee",)
    assert facts.asked("図書館は何時まで開いていますか") == ("time",)
    assert facts.asked("転入届はどこで出すの？") == ("place",)
    assert facts.asked("夜中でも看護師に相談できる電話ってある？") == ("phone",)
    assert facts.asked("パスポートの申請に必要なものは？") == ("documents",)
    assert facts.asked("How much is the bulky waste fee?") == ("fee",)
    assert facts.asked("Saan puwedeng itapon ang lumang aircon?") == ("place",)
    assert facts.asked("児童手当について") == ()


def test_a_text_holds_a_fact_of_a_kind_or_not():
    assert facts.present("fee", "1台4,000円で販売しています。")
    assert facts.present("fee", "手数料は無料です")
    assert not facts.present("fee", "防災ラジオは停電時も聞くことができます。")
    assert facts.present("phone", "電話 0120-123-456")
    assert facts.present("phone", "０１２３－４５－６７８９")  # full width, as towns write it
    assert facts.present("time", "午前8時30分から午後5時15分まで")
    assert not facts.present("documents", "住民票は窓口で取れます")


def test_missing_is_the_share_of_asked_kinds_the_text_lacks():
    assert facts.missing("いくら？", "1枚44円") == 0.0
    assert facts.missing("いくら？", "袋は役場で売っています") == 1.0
    assert facts.missing("児童手当について", "何でも") == 0.0
