"""Fusion of the retrieval signals: score fusion by hand-computed values, RRF kept."""

from __future__ import annotations

import pytest

from madoguchi.ingest.services import build_services
from madoguchi.kit.config import RetrievalSettings
from madoguchi.kit.retrieval import _rrf, _score_fusion


def _signals(ranked):
    out: dict[str, dict[str, float]] = {}
    for name, hits in ranked.items():
        for cid, raw in hits:
            out.setdefault(cid, {})[name] = raw
    return out


def test_score_fusion_by_hand():
    s = RetrievalSettings(score_weights={"dense": 10.0, "title": 0.0, "bm25": 1.0, "question": 0.0})
    ranked = {
        # a full list (n=2): a chunk missing from it gets its last value, 0.80
        "dense": [("a", 0.90), ("b", 0.80)],
        # cut short (fewer than n matches): a missing chunk gets 0; scaled by 1/4.0
        "bm25": [("c", 4.0)],
    }
    fused = _score_fusion(ranked, _signals(ranked), s, n=2)
    # floor = 10 * 0.80 + 1 * 0 = 8.0
    assert fused["a"] == pytest.approx(10 * 0.90 + 0.0 - 8.0)  # 1.0
    assert fused["b"] == pytest.approx(10 * 0.80 + 0.0 - 8.0)  # 0.0
    assert fused["c"] == pytest.approx(10 * 0.80 + 1.0 - 8.0)  # 1.0
    assert min(fused.values()) >= 0.0


def test_score_fusion_keeps_how_far_ahead_a_candidate_is():
    """RRF sees only ranks; score fusion lets a far better cosine beat a lexical first."""
    ranked = {
        "dense": [("x", 0.95), ("y", 0.80), ("z", 0.79)],
        "bm25": [("y", 5.0), ("x", 4.9)],
    }
    s = RetrievalSettings(
        score_weights={"dense": 10.0, "title": 0.0, "bm25": 1.0, "question": 0.0},
        dense_weight=0.5,
        bm25_weight=1.0,
        title_weight=0.0,
    )
    fused = _score_fusion(ranked, _signals(ranked), s, n=3)
    assert max(fused, key=fused.get) == "x"
    ranks = {"x": {"dense": 1, "bm25": 2}, "y": {"dense": 2, "bm25": 1}, "z": {"dense": 3}}
    rrf = _rrf(ranks, s)
    assert max(rrf, key=rrf.get) == "y"  # the lexical first wins on ranks alone


def test_a_lone_candidate_scores_above_zero():
    ranked = {"bm25": [("only", 2.0)]}
    fused = _score_fusion(ranked, _signals(ranked), RetrievalSettings(), n=50)
    assert fused["only"] > 0


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_both_fusions_find_the_matching_faq(settings, tmp_path, fusion):
    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答,所管部署\n"
        "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課\n"
        "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。,住民課\n"
        "3,児童手当の申請方法は？,出生後15日以内に子育て支援課へ申請してください。,子育て支援課\n",
        encoding="utf-8",
    )
    svc = build_services(settings.with_overrides(**{"retrieval.fusion": fusion}))
    svc.ingest([tmp_path / "faq.csv"])
    hits, trace = svc.retriever.search("住民票の写しが欲しい", 3)
    assert hits[0].chunk.source_id.endswith("faq.csv#2")
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert "fuse_ms" in trace.timings


def test_a_hit_found_by_words_alone_gets_a_similarity_bound(settings, tmp_path):
    """The answerer's confidence needs a similarity for every top hit: a BM25-only hit
    carries the dense list's last value and no dense rank."""
    rows = "\n".join(f"{i},質問{i}の件,回答{i}です。,課{i}" for i in range(1, 40))
    (tmp_path / "faq.csv").write_text(
        "ID,質問,回答,所管部署\n"
        + rows
        + "\n99,マイナンバーカードの更新,窓口で更新します。,住民課\n",
        encoding="utf-8",
    )
    svc = build_services(settings.with_overrides(**{"retrieval.candidates": 3}))
    svc.ingest([tmp_path / "faq.csv"])
    hits, trace = svc.retriever.search("マイナンバーカードの更新", 10)
    for h in hits:
        assert "dense" in h.signals and "title" in h.signals
        if "dense" not in h.ranks:
            assert h.signals["dense"] <= trace.ranked["dense"][-1][1] + 1e-9


def ingested(settings, tmp_path, files: dict[str, str]):
    """Services over an index of ``files`` (name -> text), written to ``tmp_path``."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    svc = build_services(settings)
    svc.ingest([tmp_path / name for name in files])
    return svc


def test_a_table_row_named_in_the_question_comes_first(settings, tmp_path):
    """5374-style rows: the row whose item name the question contains outranks wordier
    rows sharing more of its words; the name signal is added as it is (0..1)."""
    rows = (
        "type,name,notice\n"
        "粗大ごみ,自転車の空気入れ（袋に入らないもの）,子供の自転車用の空気入れも同じです。\n"
        "粗大ごみ,子供用遊具（プラスチック製）,子供の遊具は粗大ごみです。\n"
        "粗大ごみ,自転車,防犯登録を抹消してから出してください。\n"
    )
    svc = ingested(settings, tmp_path, {"target.csv": rows})
    hits, trace = svc.retriever.search("子供の自転車いらなくなった", 3)
    assert hits[0].chunk.title == "自転車"
    # じてんしゃ: the reading is the longer form matched, 5 / (5 + 2)
    assert trace.ranked["name"][0][1] == pytest.approx(5 / 7)
    assert hits[0].signals["name"] == pytest.approx(5 / 7)
    off = build_services(
        settings.with_overrides(
            **{"retrieval.score_weights": {"dense": 10.0, "title": 15.0, "bm25": 1.0}}
        )
    )
    assert off.retriever.search("子供の自転車いらなくなった", 3)[0][0].chunk.title != "自転車"


def test_no_name_signal_without_table_rows(settings, tmp_path):
    svc = ingested(
        settings,
        tmp_path,
        {"faq.csv": "ID,質問,回答\n1,自転車の登録は？,防犯登録は販売店でできます。\n"},
    )
    _, trace = svc.retriever.search("自転車", 3)
    assert "name" not in trace.ranked


def test_faq_rows_carry_a_lead_signal_and_pages_stand_in_with_their_passage(settings, tmp_path):
    svc = ingested(
        settings,
        tmp_path,
        {
            "faq.csv": "ID,質問,回答\n1,ごみの日は？,燃えるごみは月曜と木曜です。詳しくは環境課へ。\n",
            "bus.md": "# 町のバス\n\nデマンドバスは電話で予約すると家の前まで来ます。\n",
        },
    )
    view = svc.index.view()
    faq_id = next(c.id for c in view.chunks() if c.meta.get("kind") == "faq")
    assert {c.id for c in view.chunks() if view.has_lead(c.id)} == {faq_id}
    _, trace = svc.retriever.search("バスの予約", 5)
    lead = dict(trace.ranked["lead"])
    dense = dict(trace.ranked["dense"])
    page_ids = [c.id for c in view.chunks() if c.id != faq_id]
    assert faq_id in lead
    # a page's lead value is its passage similarity
    assert all(lead[c] == pytest.approx(dense[c]) for c in page_ids if c in dense)
    assert [v for _, v in trace.ranked["lead"]] == sorted(lead.values(), reverse=True)


def test_no_lead_signal_in_an_index_without_faq_rows(settings, tmp_path):
    svc = ingested(settings, tmp_path, {"target.csv": "type,name\n粗大ごみ,自転車\n"})
    assert "lead" not in svc.retriever.search("自転車", 3)[1].ranked


def test_a_question_in_another_language_is_matched_by_meaning_alone(settings, tmp_path):
    faq = "ID,質問,回答\n1,ＦＡＱとは？,よくある質問のことです。\n2,住民票の写しは？,住民課で交付します。\n"
    svc = ingested(settings, tmp_path, {"faq.csv": faq})
    assert svc.index.view().languages == {"ja"}
    for lang in (None, "ja", "ja-easy"):
        assert "bm25" in svc.retriever.search("What is an FAQ", 3, lang=lang)[1].ranked
    _, trace = svc.retriever.search("What is an FAQ", 3, lang="en")
    assert {"bm25", "question", "name"}.isdisjoint(trace.ranked)
    assert "dense" in trace.ranked and "title" in trace.ranked


def test_words_are_matched_in_a_language_the_faq_is_translated_into(settings, tmp_path):
    faq = (
        "ID,質問,回答,質問_en,回答_en\n"
        "1,住民票の写しは？,住民課で交付します。,How do I get a residence certificate?,"
        "At the Residents Section.\n"
    )
    svc = ingested(settings, tmp_path, {"faq.csv": faq})
    assert svc.index.view().languages == {"ja", "en"}
    assert "bm25" in svc.retriever.search("residence certificate", 3, lang="en")[1].ranked
    assert "bm25" not in svc.retriever.search("giấy cư trú", 3, lang="vi")[1].ranked


def test_services_pass_the_questions_own_language(settings, tmp_path):
    svc = ingested(
        settings, tmp_path, {"faq.csv": "ID,質問,回答\n1,住民票の写しは？,住民課で交付します。\n"}
    )
    seen: list[str | None] = []
    search = svc.retriever.search

    def spy(query, k=None, *, lang=None):
        seen.append(lang)
        return search(query, k, lang=lang)

    svc.retriever.search = spy  # type: ignore[method-assign]
    svc.ask("住民票の写しが欲しい")
    svc.ask("How can I get a copy of my residence certificate?")
    # the widget's language setting does not decide it: the question's language does
    svc.ask("住民票の写しが欲しい", lang="en")
    assert seen == ["ja", "en", "ja"]


def test_a_foreign_question_is_also_searched_as_the_glossarys_japanese_terms(settings, tmp_path):
    from madoguchi.kit.glossary import Glossary

    svc = ingested(
        settings,
        tmp_path,
        {"target.csv": "type,name\n粗大ごみ,ソファー\n家電リサイクル,テレビ\n"},
    )
    svc.retriever._glossary = Glossary(
        [{"key": "tv", "ja": ["テレビ"], "en": ["tv", "television"]}]
    )
    hits, trace = svc.retriever.search("Where can I throw away an old TV?", 3, lang="en")
    assert [m.japanese for m in trace.glossary] == ["テレビ"]
    assert hits[0].chunk.title == "テレビ" and "name" in trace.ranked and "bm25" in trace.ranked
    off = svc.retriever.settings.model_copy(update={"glossary": False})
    svc.retriever.settings = off
    _, trace = svc.retriever.search("Where can I throw away an old TV?", 3, lang="en")
    assert trace.glossary == [] and "bm25" not in trace.ranked


def test_a_romanised_japanese_question_is_also_searched_in_hiragana(settings, tmp_path):
    svc = ingested(
        settings,
        tmp_path,
        {"target.csv": "type,name\n粗大ごみ,そふぁー\n家電リサイクル,てれび\n"},
    )
    _, trace = svc.retriever.search("sofaa wa nani gomi?", 3, lang="en")
    assert trace.romaji == "そふぁあ わ なに ごみ?"
    assert "bm25" in trace.ranked
    svc.retriever.settings = svc.retriever.settings.model_copy(update={"romaji": False})
    _, trace = svc.retriever.search("sofaa wa nani gomi?", 3, lang="en")
    assert trace.romaji == ""


def test_a_romanised_question_is_searched_and_answered_as_japanese_unless_the_menu_says(
    settings, tmp_path
):
    svc = ingested(settings, tmp_path, {"target.csv": "type,name\n粗大ごみ,そふぁー\n"})
    seen: list[str | None] = []
    search = svc.retriever.search

    def spy(query, k=None, *, lang=None):
        seen.append(lang)
        return search(query, k, lang=lang)

    svc.retriever.search = spy  # type: ignore[method-assign]
    assert svc.ask("sofaa wa nani gomi?").answer.lang == "ja"
    assert svc.ask("sofaa wa nani gomi?", lang="en").answer.lang == "en"
    assert seen == ["ja", "ja"]  # the Japanese documents, in Japanese terms, both times
    svc.settings.retrieval.romaji = False
    svc.ask("sofaa wa nani gomi?")
    assert seen[-1] == "en"
