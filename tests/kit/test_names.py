"""Item names of table rows found inside a question (kit.names)."""

from madoguchi.kit.names import NameIndex, name_keys

ITEMS = [
    "自転車",
    "自転車の空気入れ（袋に入らないもの）",
    "子供用遊具（プラスチック製）",
    "ふとん",
    "座布団",
    "傘",
    "ビニール傘",
    "煙突（袋に入らないもの）※建築廃材を除く",
    "カセットボンベ・スプレー缶",
    "ペンキ",
    "ペンキの缶",
]


def index() -> NameIndex:
    return NameIndex(enumerate(ITEMS))


def names(found: list[tuple[int, float]]) -> list[str]:
    return [ITEMS[i] for i, _ in found]


def test_keys_drop_qualifiers_and_split_alternatives():
    assert name_keys("煙突（袋に入らないもの）※建築廃材を除く") == {"煙突"}
    assert name_keys("カセットボンベ・スプレー缶") == {
        "かせっとぼんべ・すぷれー缶",
        "かせっとぼんべ",
        "すぷれー缶",
    }
    assert name_keys("（）") == set()


def test_the_row_named_in_the_question_is_found_not_the_wordier_ones():
    assert names(index().search("子供の自転車いらなくなった")) == ["自転車"]
    assert names(index().search("ペンキが余った 捨てたい")) == ["ペンキ"]
    assert names(index().search("ペンキの缶は何ごみ")) == ["ペンキの缶"]


def test_a_name_inside_a_longer_matched_name_is_not_the_name():
    # ビニール傘 is an item of its own: 傘 alone would be the wrong row
    assert names(index().search("壊れたビニール傘")) == ["ビニール傘"]
    assert names(index().search("壊れた傘")) == ["傘"]


def test_kana_and_kanji_meet_through_the_reading():
    assert "ふとん" in names(index().search("布団って粗大ごみ？"))
    # a reading is matched on its own sounds: 座布団 (ザブトン) is not フトン
    assert "座布団" not in names(index().search("布団って粗大ごみ？"))


def test_width_and_case_and_katakana_hiragana_are_folded():
    assert names(index().search("ｽﾌﾟﾚｰ缶の捨て方")) == ["カセットボンベ・スプレー缶"]
    assert names(index().search("すぷれー缶")) == ["カセットボンベ・スプレー缶"]


def test_longer_names_score_higher_and_nothing_matches_nothing():
    found = dict(index().search("自転車と傘"))
    assert found[0] > found[5] > 0
    assert index().search("太陽光パネルを処分したい") == []
    assert index().search("") == []
    assert NameIndex([]).search("自転車") == []


def test_a_huge_question_is_bounded():
    found = index().search("自転車" + "あ" * 1_000_000)
    assert names(found) == ["自転車"]


def test_a_one_word_name_is_found_by_its_synonym_group():
    idx = NameIndex(
        enumerate(["自転車", "デジタルカメラ", "カメラ（フィルム）", "自転車の空気入れ"])
    )
    assert [i for i, _ in idx.search("古いチャリ処分したい")] == [0]
    assert [i for i, _ in idx.search("デジカメいらなくなった")] == [1]


def test_a_name_heard_inside_a_longer_name_is_dropped():
    # ダンボール is read as 段ボール: ボール (a ball) written inside it is not meant
    items = ["段ボール", "ボール（球）"]
    idx = NameIndex(enumerate(items))
    assert [items[i] for i, _ in idx.search("引っ越しで出たダンボール 何ごみ？")] == ["段ボール"]
    assert [items[i] for i, _ in idx.search("子供のボール")] == ["ボール（球）"]
