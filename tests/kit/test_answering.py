"""The answerer's three outcomes, the follow-up question and the contact on refusal."""

from __future__ import annotations

import math

import pytest
from factories import hit

from madoguchi.kit.answering import ExtractiveAnswerer, confidence, evidence, likely_contact
from madoguchi.kit.config import AnswerSettings

FAQ = dict(
    question="粗大ごみの出し方",
    answer="粗大ごみは電話で予約し、処理券（1点300円）を貼って出してください。",
    department="環境衛生課",
    phone="0120-000-111",
)


def test_confidence_grows_with_similarity_and_coverage():
    s = AnswerSettings()
    low = confidence([hit("a#1", "x", dense=0.78)], s)
    high = confidence([hit("a#1", "x", dense=0.90)], s)
    assert 0.0 <= low < high <= 1.0
    uncovered = confidence([hit("a#1", "x", dense=0.90, coverage=0.0)], s)
    assert uncovered < high
    # a foreign-language question is judged on similarity alone
    assert confidence([hit("a#1", "x", dense=0.90, coverage=0.0)], s, "en") > uncovered
    assert confidence([], s) == 0.0


def test_confident_faq_returns_official_answer_verbatim():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "ソファを捨てたい", [hit("f.csv#1", "q\na", dense=0.93, **FAQ)]
    )
    assert not a.refused and a.mode == "faq"
    assert a.text == FAQ["answer"]
    assert a.citations[0].source_id == "f.csv#1"
    assert a.department == "環境衛生課" and a.phone == "0120-000-111"


def test_low_confidence_refuses_and_names_department():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "町長の給料は？", [hit("f.csv#1", "q\na", dense=0.70, ranks={"dense": 1}, **FAQ)]
    )
    assert a.refused and a.mode == "abstain" and a.citations == ()
    assert "環境衛生課" in a.text and "0120-000-111" in a.text


def test_refusal_without_hits_uses_default_contact():
    s = AnswerSettings(default_department="みどり川町役場 総務課", default_phone="01234-5-0000")
    a = ExtractiveAnswerer(s).answer("？", [], lang="en")
    assert a.refused and "総務課" in a.text and "01234-5-0000" in a.text
    assert a.text.startswith("Sorry")


def test_page_hit_gives_extractive_answer_with_citation():
    text = (
        "避難所一覧\n中央公民館は指定避難所です。駐車場は50台です。\n図書館は避難所ではありません。"
    )
    h = hit("demo/pages/bousai.md", text, dense=0.92, kind="page", department="総務課防災係")
    a = ExtractiveAnswerer(AnswerSettings()).answer("避難所はどこ？", [h])
    assert not a.refused and a.mode == "extractive"
    assert "中央公民館" in a.text
    assert a.citations[0].source_id == "demo/pages/bousai.md"


def test_foreign_question_gets_note_and_japanese_answer():
    a = ExtractiveAnswerer(AnswerSettings()).answer(
        "How do I throw away a sofa?", [hit("f.csv#1", "q\na", dense=0.93, **FAQ)], lang="en"
    )
    assert a.lang == "en" and not a.refused
    assert a.text.startswith("This is the town's official answer")
    assert FAQ["answer"] in a.text and "0120-000-111" in a.text


def test_near_tie_between_different_topics_asks_follow_up():
    a1 = hit("f.csv#1", "q\na", dense=0.90, score=0.032, **FAQ)
    a2 = hit(
        "f.csv#2", "q\nb", dense=0.895, score=0.031, question="家電リサイクル品の出し方", answer="b"
    )
    ans = ExtractiveAnswerer(AnswerSettings()).answer("大きいものを捨てたい", [a1, a2])
    assert ans.follow_up is not None
    assert "粗大ごみの出し方" in ans.follow_up and "家電リサイクル品の出し方" in ans.follow_up
    # the alternative offered by the follow-up is linked too
    assert [c.source_id for c in ans.citations] == ["f.csv#1", "f.csv#2"]
    # neither is given as "the" official answer: the best passages of both are shown
    assert ans.mode == "extractive"
    assert FAQ["answer"] in ans.text and "b" in ans.text.split(FAQ["answer"])[1]


def test_clear_winner_asks_no_follow_up():
    a1 = hit("f.csv#1", "q\na", dense=0.93, score=0.032, **FAQ)
    a2 = hit("f.csv#2", "q\nb", dense=0.80, score=0.016, question="犬の登録", answer="b")
    assert ExtractiveAnswerer(AnswerSettings()).answer("粗大ごみ", [a1, a2]).follow_up is None


def test_likely_contact_votes_by_rank():
    hits = [
        hit("a#1", "x", dense=0.8, department="税務課", phone="1"),
        hit("a#2", "x", dense=0.8, department="住民課", phone="2"),
        hit("a#3", "x", dense=0.8, department="住民課", phone="2"),
        hit("a#4", "x", dense=0.8, department="住民課", phone="2"),
    ]
    # weights: 1/1 for 税務課 against 1/2 + 1/3 + 1/4 = 1.083 for 住民課
    assert likely_contact(hits, AnswerSettings()) == ("住民課", "2")
    assert likely_contact([], AnswerSettings()) == (None, None)


def test_table_rows_and_named_items_enter_the_confidence_by_their_weights():
    w = {"bias": 0.0, "sim": 10.0, "table": 1.0, "name": 4.0}
    s = AnswerSettings(conf_weights=w)
    faq_hit = hit("t.csv#1", "x", dense=0.86, coverage=0.3)
    table_hit = hit("t.csv#1", "x", dense=0.86, coverage=0.3, kind="table")
    named = hit("t.csv#1", "x", dense=0.86, coverage=0.3, kind="table", name=0.6)
    z = 10.0 * (0.86 - s.conf_sim_center)
    assert confidence([faq_hit], s) == pytest.approx(1 / (1 + math.exp(-z)))
    assert confidence([table_hit], s) == pytest.approx(1 / (1 + math.exp(-(z + 1.0))))
    assert confidence([named], s) == pytest.approx(1 / (1 + math.exp(-(z + 1.0 + 4.0 * 0.6))))
    assert evidence([named])["name"] == pytest.approx(0.6)
    assert evidence([faq_hit])["name"] == 0.0


def test_best_sentences_keep_a_table_rows_lines():
    from madoguchi.kit.answering import _best_sentences
    from madoguchi.kit.lexical import tokenize

    row = (
        "品目: 自転車\n分別: 粗大ごみ\n出し方・注意: 防犯登録を抹消してください。申込みが必要です。"
    )
    # short enough: every line as it was
    assert _best_sentences(row, set(), 500) == row
    # cut: the chosen sentences in the text's order, each line still ending its line
    qtoks = set(tokenize("自転車の防犯登録"))
    assert (
        _best_sentences(row, qtoks, 30)
        == "品目: 自転車\n出し方・注意: 防犯登録を抹消してください。"
    )


def test_a_page_hit_is_a_feature_with_its_fitted_weight():
    faq_hit = hit("f.csv#1", "x", dense=0.86, coverage=0.3)
    page_hit = hit("p.md", "x", dense=0.86, coverage=0.3, kind="page")
    pdf_hit = hit("g.pdf", "x", dense=0.86, coverage=0.3, kind="pdf")
    assert [evidence([h])["page"] for h in (faq_hit, page_hit, pdf_hit)] == [0.0, 1.0, 1.0]
    d = AnswerSettings()
    no_page = AnswerSettings(conf_weights={k: v for k, v in d.conf_weights.items() if k != "page"})
    assert confidence([page_hit], no_page) == confidence([faq_hit], no_page)
    d = no_page
    town = AnswerSettings(conf_weights={**d.conf_weights, "page": 0.5})  # a town's refit
    z_gap = math.log(confidence([page_hit], town) / (1 - confidence([page_hit], town))) - (
        math.log(confidence([faq_hit], town) / (1 - confidence([faq_hit], town)))
    )
    assert z_gap == pytest.approx(0.5)


def test_a_refusal_offers_the_documents_that_may_help():
    a = ExtractiveAnswerer(AnswerSettings(answer_threshold=1.01))  # refuse everything
    hits = [
        hit("p/gomi.md", "ごみの分け方", dense=0.86, kind="page", url="https://t.jp/gomi"),
        hit("p/gomi.md", "ごみの出し方 その2", dense=0.85, kind="page"),  # same source: once
        hit("faq.csv#3", "粗大ごみ", dense=0.83),
        hit("faq.csv#4", "犬の登録", dense=0.81),
        hit("faq.csv#5", "関係ない", dense=0.70),  # below min_similarity: not about it
    ]
    ans = a.answer("スマホの捨て方", hits)
    assert ans.refused and ans.citations == ()
    assert [c.source_id for c in ans.related] == ["p/gomi.md", "faq.csv#3", "faq.csv#4"]
    assert ans.related[0].url == "https://t.jp/gomi"
    assert ans.to_json()["related"][0] == {
        "source": "p/gomi.md", "title": "p/gomi.md", "url": "https://t.jp/gomi"
    }  # fmt: skip
    few = ExtractiveAnswerer(AnswerSettings(answer_threshold=1.01, max_related=1))
    assert len(few.answer("x", hits).related) == 1
    none = ExtractiveAnswerer(AnswerSettings(answer_threshold=1.01, max_related=0))
    assert none.answer("x", hits).related == ()
    assert a.answer("x", hits[4:]).related == ()  # nothing close enough
    answered = ExtractiveAnswerer(AnswerSettings(answer_threshold=0.0)).answer("x", hits)
    assert not answered.refused and answered.related == ()


def test_related_documents_must_share_the_questions_words():
    a = ExtractiveAnswerer(AnswerSettings(answer_threshold=1.01))
    hits = [
        hit("faq.csv#1", "町営バスの運賃はいくらですか", dense=0.86, coverage=0.1),  # いくら only
        hit("faq.csv#2", "町長の給与", dense=0.84, coverage=0.7),
    ]
    assert [c.source_id for c in a.answer("町長の給料はいくら？", hits).related] == ["faq.csv#2"]
    # a question in another language has no words in common to count: similarity decides
    en = a.answer("How much does the mayor earn?", hits, lang="en").related
    assert [c.source_id for c in en] == ["faq.csv#1", "faq.csv#2"]


def test_a_long_documents_answer_comes_from_its_passage_that_holds_the_fact():
    """Of two passages of one newsletter issue among the hits, the one holding the
    price asked for is shown, not the issue's opening on the radio's features."""
    opening = hit(
        "kouhou/2024-04.md",
        "防災ラジオのご案内。防災ラジオは停電時も電池で聞くことができ、緊急放送が自動で流れます。",
        kind="page",
        score=0.05,
    )
    price = hit(
        "kouhou/2024-04.md",
        "防災ラジオの購入について。役場の窓口で1台4000円で販売しています。",
        kind="page",
        score=0.04,
    )
    other = hit("kouhou/2023-01.md", "村の広報です。", kind="page", score=0.01)
    ans = ExtractiveAnswerer(AnswerSettings(answer_threshold=0.0)).answer(
        "防災ラジオを買うといくら？", [opening, price, other]
    )
    assert "4000円" in ans.text
    assert ans.citations[0].source_id == "kouhou/2024-04.md"


def test_a_question_asking_a_fee_is_answered_from_the_near_tied_entry_holding_one():
    without = hit(
        "faq.csv#1",
        question="原戸籍とは何ですか",
        answer="改製前の戸籍のことです。",
        score=0.050,
    )
    with_fee = hit(
        "faq.csv#2",
        question="戸籍謄本の取り方",
        answer="市民課の窓口で1通450円で交付します。",
        score=0.046,
    )
    settings = AnswerSettings(answer_threshold=0.0)
    ans = ExtractiveAnswerer(settings).answer("戸籍謄本はいくら？", [without, with_fee])
    assert ans.citations[0].source_id == "faq.csv#2" and "450円" in ans.text
    # far behind, or with the rerank off, the best hit stays the answer
    far = hit("faq.csv#2", question="戸籍謄本の取り方", answer="1通450円です。", score=0.02)
    ans = ExtractiveAnswerer(settings).answer("戸籍謄本はいくら？", [without, far])
    assert ans.citations[0].source_id == "faq.csv#1"
    off = AnswerSettings(answer_threshold=0.0, fact_rerank_ratio=0.0)
    ans = ExtractiveAnswerer(off).answer("戸籍謄本はいくら？", [without, with_fee])
    assert ans.citations[0].source_id == "faq.csv#1"
