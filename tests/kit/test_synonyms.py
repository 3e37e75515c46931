"""The town's synonym list: parsing, lookup in questions, the file, and retrieval."""

from __future__ import annotations

import json
import os

import pytest

from madoguchi.kit.errors import InputError
from madoguchi.kit.synonyms import MAX_REWRITES, SynonymFile, Synonyms
from tests.kit.test_retrieval import ingested


def test_parse_reads_groups_comments_and_separators():
    syn = Synonyms.parse(
        "# 言い換え\n"
        "スマホ, スマートフォン ,携帯電話\n"
        "\n"
        "ガス缶、カセットボンベ  # 卓上コンロの\n"
        "猫砂\tペットの砂\n"
    )
    assert syn.groups == [
        ("スマホ", "スマートフォン", "携帯電話"),
        ("ガス缶", "カセットボンベ"),
        ("猫砂", "ペットの砂"),
    ]
    assert len(Synonyms.parse("")) == 0
    assert Synonyms.parse(syn.to_text()).groups == syn.groups


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("スマホ\n", "line 1: a group needs two or more"),
        ("a, b\nスマホ, すまほ\n", "line 2: a group needs two or more different"),
        ("a, " + "x" * 41 + "\n", "line 1: a word over 40 characters"),
    ],
)
def test_a_bad_line_is_named(text, says):
    with pytest.raises(InputError, match=says):
        Synonyms.parse(text, "synonyms.csv")


def test_words_are_found_in_any_kana_or_width_and_keep_the_questions_spelling():
    syn = Synonyms([("スマホ", "スマートフォン", "携帯電話")])
    for q in ("前のスマホどうしたら", "前のすまほどうしたら", "前のｽﾏﾎどうしたら"):
        (ex,) = syn.expand(q)
        assert ex.alternatives == ("スマートフォン", "携帯電話")
        assert ex.word in q
    (ex,), variants = syn.rewrites("前のｽﾏﾎどうしたら")
    assert ex.word == "ｽﾏﾎ"
    assert variants == ["前のスマートフォンどうしたら", "前の携帯電話どうしたら"]
    assert syn.expand("自転車を捨てたい") == []


def test_a_word_inside_a_longer_listed_word_does_not_count():
    syn = Synonyms([("油", "オイル"), ("揚げ油", "食用油")])
    (ex,) = syn.expand("揚げ油の捨て方")
    assert ex.alternatives == ("食用油",)
    assert [e.alternatives for e in syn.expand("油とオイル")] == [("オイル",)]  # one per group


def test_rewrites_are_capped():
    syn = Synonyms([tuple(f"語{i}" for i in range(10))])
    _, variants = syn.rewrites("語0 はどこ")
    assert len(variants) == MAX_REWRITES


def test_the_file_is_reread_when_it_changes_and_a_bad_edit_keeps_the_last_list(tmp_path):
    path = tmp_path / "synonyms.csv"
    f = SynonymFile(path)
    assert len(f.current()) == 0 and f.error is None  # no file yet: no synonyms
    f.add(["スマホ", "携帯電話"])
    assert f.current().groups == [("スマホ", "携帯電話")]
    path.write_text("ガス缶, カセットボンベ\nスマホ, 携帯電話\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new stamp even within the clock's resolution
    assert len(f.current()) == 2
    path.write_text("ガス缶\n", encoding="utf-8")
    os.utime(path, ns=(2, 2))
    assert len(f.current()) == 2 and "line 1" in (f.error or "")
    path.unlink()
    assert len(f.current()) == 0


def test_saving_checks_first_and_reads_shift_jis(tmp_path):
    f = SynonymFile(tmp_path / "d" / "synonyms.csv")
    f.save_text("スマホ, 携帯電話")
    with pytest.raises(InputError, match="line 2"):
        f.save_text("ガス缶, カセットボンベ\nひとつだけ\n")
    assert f.current().groups == [("スマホ", "携帯電話")]  # nothing was written
    assert list(f.path.parent.iterdir()) == [f.path]  # no temporary file left behind
    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes("ガス缶,カセットボンベ\n".encode("cp932"))
    from madoguchi.kit.synonyms import read_text

    assert Synonyms.parse(read_text(sjis)).groups == [("ガス缶", "カセットボンベ")]
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        read_text(tmp_path / "bin.csv")


ROWS = (
    "type,name,notice\n"
    "小型家電,携帯電話,小型家電ボックスに入れてください。\n"
    "空き缶,カセットボンベ,使い切ってから出してください。\n"
    "不燃性粗大ごみ,スーツケース,粗大ごみとして申し込んでください。\n"
    "可燃ごみ,収納ケース（プラスチック製）,\n"
)


def test_a_listed_word_finds_the_row_by_its_other_name(settings, tmp_path):
    """スマホ is not in the table; with the town's list the 携帯電話 row is found by its
    name and words, its coverage counts the synonym, and other questions are untouched."""
    svc = ingested(settings, tmp_path, {"target.csv": ROWS})
    q = "機種変した 前のスマホどうしたらいい"
    hits, trace = svc.retriever.search(q, 4)
    assert hits[0].chunk.title != "携帯電話" and not trace.ranked.get("name")
    assert next(h for h in hits if h.chunk.title == "携帯電話").signals["coverage"] == 0
    svc.synonyms.add(["スマホ", "スマートフォン", "携帯電話"])
    hits, trace = svc.retriever.search(q, 3)
    assert hits[0].chunk.title == "携帯電話"
    assert trace.ranked["name"][0][1] == pytest.approx(
        7 / 9
    )  # matched by its reading けいたいでんわ
    assert hits[0].signals["coverage"] > 0
    assert [e.word for e in trace.expansions] == ["スマホ"]
    plain, plain_trace = svc.retriever.search("スーツケースを捨てたい", 3)
    assert plain[0].chunk.title == "スーツケース" and plain_trace.expansions == []


def test_the_admin_screen_edits_the_list(settings, tmp_path):
    from madoguchi.ui.admin import AdminActions

    svc = ingested(settings, tmp_path, {"target.csv": ROWS})
    actions = AdminActions(lambda: svc, lambda: None, settings)
    assert actions.synonyms_text().startswith("#")
    assert "1 グループ" in actions.save_synonyms("ガス缶, カセットボンベ\n")
    with pytest.raises(InputError):
        actions.save_synonyms("ガス缶\n")
    text, _ = actions.try_question("鍋で使ったガス缶の捨て方")
    assert "ガス缶 → カセットボンベ" in text
    assert settings.synonyms_path.read_text(encoding="utf-8") == "ガス缶, カセットボンベ\n"


def _refused(log, question, lang="ja"):
    log.record(
        question=question, lang=lang, answer="", citations=[], refused=True,
        mode="refused", confidence=0.1, latency_ms=10.0,
    )  # fmt: skip


def test_suggestions_are_the_unanswered_questions_words_no_document_uses(settings, tmp_path):
    from madoguchi.kit.convlog import ConversationLog
    from madoguchi.kit.synonyms import suggest, suggest_from_log

    svc = ingested(settings, tmp_path, {"target.csv": ROWS})
    qs = [
        ("前のスマホどうしたらいい", 2),
        ("キャリーケースが壊れた", 1),
        ("携帯電話の捨て方", 1),  # every word is in the table
        ("いくらかかる？", 1),  # hiragana: not a thing's name
        ("前のスマホ 捨てたい", 1),
    ]
    got = {s.word: s for s in suggest(qs, svc.index.view(), svc.embedder, Synonyms())}
    assert set(got) == {"スマホ", "キャリーケース"}
    assert got["スマホ"].questions == 3 and got["スマホ"].example == "前のスマホどうしたらいい"
    # ケース is in 収納ケース: only キャリー is unknown, shown with its phrase
    assert got["キャリーケース"].unknown == "キャリー"
    titles = {"携帯電話", "カセットボンベ", "スーツケース", "収納ケース（プラスチック製）"}
    assert set(got["スマホ"].nearest) <= titles
    assert len(got["スマホ"].nearest) == 3
    # a word the town's list covers is not suggested again
    covered = suggest(qs, svc.index.view(), svc.embedder, Synonyms([("スマホ", "携帯電話")]))
    assert [s.word for s in covered] == ["キャリーケース"]
    # from the log: refused Japanese questions only
    log = ConversationLog.in_data_dir(tmp_path / "log")
    _refused(log, "前のスマホどうしたらいい")
    _refused(log, "前のスマホどうしたらいい")
    _refused(log, "What about my old Samsung?", lang="en")
    log.record(
        question="キャリーケースを捨てたい", lang="ja", answer="…", citations=[],
        refused=False, mode="faq", confidence=0.9, latency_ms=10.0,
    )  # fmt: skip
    rows = suggest_from_log(log, svc.index.view(), svc.embedder, Synonyms())
    assert [(s.word, s.questions) for s in rows] == [("スマホ", 2)]


def test_cli_and_admin_show_the_suggestions(chroma_settings, tmp_path, monkeypatch):
    settings = chroma_settings
    from typer.testing import CliRunner

    from madoguchi.kit.convlog import ConversationLog
    from madoguchi.ui.admin import AdminActions
    from madoguchi.ui.cli import app

    svc = ingested(settings, tmp_path, {"target.csv": ROWS})
    log = ConversationLog.in_data_dir(settings.data_dir)
    _refused(log, "前のスマホどうしたらいい")
    actions = AdminActions(lambda: svc, lambda: log, settings)
    (row,) = actions.synonym_suggestions()
    assert row[:3] == ["スマホ", "スマホ", 1]
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__KIND", "fake")
    monkeypatch.setenv("MADOGUCHI_EMBEDDER__DIM", "256")
    r = CliRunner().invoke(app, ["synonyms", "suggest", "--json"])
    assert r.exit_code == 0, r.output
    (got,) = json.loads(r.stdout)
    assert got["word"] == "スマホ" and len(got["nearest"]) == 3  # the CLI sees the same index
    r = CliRunner().invoke(app, ["synonyms", "suggest"])
    assert "スマホ" in r.stdout and "madoguchi synonyms add" in r.stdout
    with pytest.raises(InputError, match="会話ログが無効"):
        AdminActions(lambda: svc, lambda: None, settings).synonym_suggestions()
