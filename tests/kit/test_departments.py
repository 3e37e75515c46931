"""Department names in the residents' languages: the town's table, the glossary, neither."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from factories import hit

from madoguchi.kit.answering import ExtractiveAnswerer
from madoguchi.kit.config import AnswerSettings, Settings
from madoguchi.kit.departments import Departments, glossary_departments, read_table
from madoguchi.kit.errors import InputError
from madoguchi.kit.lang import LANGS

DEMO = Path(__file__).resolve().parents[2] / "demo" / "departments.csv"
TABLE = (
    "\ufeffname,phone,kana,English,中国語(簡体字),ko\n"
    "総合窓口,01234-5-1101,そうごうまどぐち,General information counter,综合服务窗口,\n"
    "税務課,01234-5-1102,ぜいむか,Tax Section,,\n"
)


def test_the_towns_table_wins_and_the_glossary_fills_in():
    d = Departments.from_rows(TABLE)
    assert d.label("総合窓口", "en") == "総合窓口 (General information counter)"
    assert d.label("総合窓口", "zh-Hans") == "総合窓口（综合服务窗口）"
    # the town gave no Korean: the glossary's, not nothing
    assert d.translate("総合窓口", "ko") == "종합창구"
    assert d.translate("税務課", "zh-Hans") == "税务课"  # an empty cell: the glossary's
    assert d.translate("税務課", "ja-easy") == "ぜいむか"  # the town's reading, first
    assert d.phone("税務課") == "01234-5-1102" and d.phone("住民課") is None
    # plain Japanese needs no rendering; a name spelled with spaces or full width meets
    assert d.label("税務課", "ja") == "税務課"
    assert d.translate(" 総合 窓口 ", "en") == "General information counter"


def test_the_glossary_knows_departments_and_their_variants():
    d = Departments()
    assert d.translate("住民課", "en") == "Residents Division"
    assert d.translate("課税課", "en") == "Taxation Division"  # a variant of 税務課
    assert d.translate("総合窓口", "en") == "General service counter"  # capitalised as a name
    assert d.translate("住民課", "ja-easy")  # やさしい日本語 words for it
    assert len({dep.names["en"] for dep in glossary_departments().values()}) >= 45


def test_a_name_made_of_known_names_and_an_unknown_one():
    d = Departments()
    assert d.translate("教育委員会生涯学習課", "en") == (
        "Board of Education, Lifelong Learning Division"
    )
    # a section the kit does not know: the division it belongs to
    assert d.label("総務課防災係", "en") == "総務課防災係 (General Affairs Division)"
    # nothing known from the start: the Japanese name alone, never a half guess
    assert d.translate("保健福祉課", "en") is None
    assert d.label("保健福祉課", "en") == "保健福祉課"
    assert d.label("みどり川町長寿ふれあい課", "vi") == "みどり川町長寿ふれあい課"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("部署,電話番号,en\n住民課,1,a\n住民課,2,b\n", "listed twice"),
        ("phone,en\n1,a\n", "no name column"),
        ("name,klingon\n住民課,x\n", "column 'klingon'"),
        ("name,en\n,Residents\n", "line 2: the name is empty"),
    ],
)
def test_a_bad_table_is_a_clear_error(text, message):
    with pytest.raises(InputError, match=message):
        read_table(text)


def test_the_file_is_read_again_when_it_changes_and_a_broken_one_changes_nothing(tmp_path, caplog):
    path = tmp_path / "departments.csv"
    d = Departments(path)
    assert d.translate("税務課", "en") == "Taxation Division"  # no file yet: the glossary
    path.write_text(TABLE, encoding="utf-8")
    assert d.translate("税務課", "en") == "Tax Section"
    path.write_text("name,en\n税務課,Tax Section\n税務課,Taxes\n", encoding="utf-8")
    os.utime(path, (1, 1))  # a new stamp even within the clock's resolution
    with caplog.at_level(logging.WARNING):
        assert d.translate("税務課", "en") == "Tax Section"  # the last good table
    assert "listed twice" in caplog.text


def test_the_demo_table_names_every_demo_department_in_every_language():
    d = Departments(DEMO, glossary=False)
    for name in ("総合窓口", "住民課", "税務課", "環境衛生課", "子育て支援課", "保健福祉課",
                 "総務課防災係", "上下水道課", "建設課", "教育委員会生涯学習課", "企画課"):  # fmt: skip
        for code in LANGS:
            if code not in ("ja", "zh-Hant"):  # 住民課 is written alike in zh-Hant
                assert d.translate(name, code), (name, code)
        assert d.phone(name), name


def test_a_path_may_be_given_as_text():
    assert Departments(str(DEMO)).translate("税務課", "en") == "Tax Section"


def test_settings_point_at_the_data_dir_by_default(tmp_path):
    s = Settings(data_dir=tmp_path)
    assert s.departments_path == tmp_path / "departments.csv"
    other = s.with_overrides(**{"answer.departments_file": str(tmp_path / "d.csv")})
    assert other.departments_path == tmp_path / "d.csv"


# ---------------------------------------------------------------- in answers and refusals

SURE = AnswerSettings(faq_threshold=0.0, answer_threshold=0.0)
NEVER = AnswerSettings(answer_threshold=1.01)
FAQ = dict(
    question="固定資産税の納期は？",
    answer="固定資産税の納期は4月、7月、12月、2月の末日です。",
    department="税務課",
    url="https://town.example.jp/zei",
)


def test_a_refusal_names_the_desk_so_it_can_be_read_said_and_called():
    a = ExtractiveAnswerer(NEVER, Departments.from_rows(TABLE)).answer("？", [], lang="en")
    assert a.refused and a.department == "総合窓口" and a.phone == "01234-5-1101"
    assert a.text.endswith(
        "Please contact 総合窓口 (General information counter, tel. 01234-5-1101)."
    )
    assert a.department_label == "総合窓口 (General information counter)"
    ja = ExtractiveAnswerer(NEVER, Departments.from_rows(TABLE)).answer("？", [], lang="ja")
    assert "総合窓口（電話 01234-5-1101）にお問い合わせください。" in ja.text


@pytest.mark.parametrize("lang", [c for c in LANGS if c != "ja"])
def test_every_language_gets_a_refusal_with_the_rendered_name_and_phone(lang):
    d = Departments(DEMO)
    hits = [hit("f.csv#1", dense=0.5, **FAQ)]  # the phone comes from the town's table
    a = ExtractiveAnswerer(NEVER, d).answer("x", hits, lang=lang)
    assert a.refused and a.lang == lang
    assert "01234-5-1102" in a.text and "税務課" in a.text
    assert d.translate("税務課", lang) in a.text
    assert "{" not in a.text


@pytest.mark.parametrize("lang", [c for c in LANGS if c != "ja"])
def test_every_language_gets_the_japanese_answer_with_note_contact_and_link(lang):
    d = Departments(DEMO)
    a = ExtractiveAnswerer(SURE, d).answer("x", [hit("f.csv#1", **FAQ)], lang=lang)
    assert not a.refused and FAQ["answer"] in a.text
    assert d.translate("税務課", lang) in a.text and "01234-5-1102" in a.text
    assert FAQ["url"] in a.text
    assert a.department_label == d.label("税務課", lang)


def test_a_javascript_url_is_never_put_in_the_text():
    bad = {**FAQ, "url": "javascript:alert(1)"}
    a = ExtractiveAnswerer(SURE).answer("x", [hit("f.csv#1", **bad)], lang="en")
    assert "javascript:" not in a.text
