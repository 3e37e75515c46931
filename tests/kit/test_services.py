"""Services as the CLI and the API meet them: clear input errors, refusals, streaming."""

from __future__ import annotations

import pytest

from madoguchi.ingest.services import build_services
from madoguchi.kit.errors import InputError

FAQ = (
    "ID,質問,回答,所管部署,電話番号,URL\n"
    "1,粗大ごみの出し方は？,電話で予約して処理券を貼って出してください。,環境衛生課,0120-000-111,https://town.example.jp/sodai\n"
    "2,住民票の写しはどこで取れますか？,住民課窓口で交付します。手数料は300円です。,住民課,0120-000-222,\n"
)


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 1_000_000])
def test_unusable_questions_are_clear_input_errors(settings, question):
    svc = build_services(settings)
    with pytest.raises(InputError, match=r"empty|limit"):
        svc.ask(question)


def test_ask_on_empty_index_refuses(settings):
    res = build_services(settings).ask("粗大ごみの出し方")
    assert res.answer.refused and res.hits == []


def test_ask_stream_pieces_add_up_to_the_final_answer(settings, tmp_path):
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    svc = build_services(settings)
    svc.ingest([tmp_path / "faq.csv"])
    events = list(svc.ask_stream("住民票の写しはどこで取れますか？", conversation_id="c1"))
    assert [e.kind for e in events][-1] == "final"
    assert all(e.kind == "delta" and e.text for e in events[:-1])
    final = events[-1].result
    assert final is not None and not final.answer.refused
    assert "".join(e.text for e in events[:-1]) == final.answer.text
