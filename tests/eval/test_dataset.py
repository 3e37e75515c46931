"""Dataset loading: the §4 format, validation errors that name file, line and field."""

from __future__ import annotations

import json

import pytest

from madoguchi.eval.dataset import DatasetError, EvalItem, dataset_from_faq_csv, load_dataset
from madoguchi.kit.errors import InputError, KitError

GOOD = [
    {
        "id": "q1",
        "question": "粗大ごみは？",
        "lang": "ja",
        "answerable": True,
        "expected_sources": ["data/town/faq.csv#1"],
        "expected_answer_contains": ["300円"],
        "note": "optional",
    },
    {
        "id": "q2",
        "question": "町長の給料は？",
        "lang": "ja",
        "answerable": False,
        "expected_sources": [],
        "expected_answer_contains": [],
        "relevance": {"data/town/faq.csv#7": 1},
    },
    {
        "id": "q3",
        "question": "dog registration?",
        "lang": "en",
        "answerable": True,
        "expected_sources": ["data/town/faq.csv#2"],
        "expected_answer_contains": [],
        "relevance": {"data/town/faq.csv#2": 2, "data/town/faq.csv#4": 1},
    },
]


def _lines(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _write(tmp_path, text: str, *, encoding: str = "utf-8"):
    p = tmp_path / "d.jsonl"
    p.write_bytes(text.encode(encoding))
    return p


def test_loads_every_field(tmp_path):
    items = load_dataset(_write(tmp_path, _lines(GOOD)))
    assert items[0] == EvalItem(
        id="q1",
        question="粗大ごみは？",
        lang="ja",
        answerable=True,
        expected_sources=("data/town/faq.csv#1",),
        expected_answer_contains=("300円",),
        relevance={},
        note="optional",
    )
    assert not items[1].answerable and items[1].relevance == {"data/town/faq.csv#7": 1}
    assert items[2].lang == "en" and items[2].relevance["data/town/faq.csv#4"] == 1


def test_bom_blank_lines_crlf_and_unknown_fields(tmp_path):
    rows = [{**GOOD[0], "source": "hand-written", "tags": ["x"]}, GOOD[1]]
    text = "\n\n" + _lines(rows).replace("\n", "\r\n") + "   \n\n"
    items = load_dataset(_write(tmp_path, text, encoding="utf-8-sig"))
    assert [i.id for i in items] == ["q1", "q2"]
    assert not hasattr(items[0], "tags")  # unknown fields are ignored


def test_optional_fields_default(tmp_path):
    items = load_dataset(_write(tmp_path, '{"id": "a", "question": "q", "answerable": true}\n'))
    assert items[0] == EvalItem(id="a", question="q", lang="ja", answerable=True)


def test_line_separator_inside_a_question_keeps_line_numbers(tmp_path):
    # json.dumps(ensure_ascii=False) leaves U+2028 raw; str.splitlines would split there
    rows = [{**GOOD[0], "question": "前\u2028後"}, {**GOOD[2], "answerable": "no"}]
    p = _write(tmp_path, _lines(rows))
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: field 'answerable'"):
        load_dataset(p)
    assert load_dataset(_write(tmp_path, _lines(rows[:1])))[0].question == "前\u2028後"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r.update(answerable="yes"),
            r"d\.jsonl:3: field 'answerable' must be true or false$",
        ),
        (lambda r: r.pop("answerable"), r"d\.jsonl:3: field 'answerable' must be true or false"),
        (lambda r: r.update(answerable=1), r"d\.jsonl:3: field 'answerable' must be true or false"),
        (lambda r: r.pop("question"), r"d\.jsonl:3: field 'question' is required"),
        (lambda r: r.update(question="  "), r"d\.jsonl:3: field 'question' is required"),
        (lambda r: r.update(id=7), r"d\.jsonl:3: field 'id' is required"),
        (lambda r: r.update(lang=""), r"d\.jsonl:3: field 'lang'"),
        (
            lambda r: r.update(answerable=False),
            r"d\.jsonl:3: an unanswerable item must have expected_sources: \[\]",
        ),
        (lambda r: r.update(expected_sources="faq.csv#2"), r"d\.jsonl:3: field 'expected_sources'"),
        (lambda r: r.update(expected_sources=[""]), r"d\.jsonl:3: field 'expected_sources'"),
        (
            lambda r: r.update(expected_answer_contains=[300]),
            r"d\.jsonl:3: field 'expected_answer_contains'",
        ),
        (lambda r: r.update(relevance={"a": "high"}), r"d\.jsonl:3: field 'relevance'"),
        (lambda r: r.update(relevance={"a": -1}), r"d\.jsonl:3: field 'relevance'"),
        (lambda r: r.update(relevance={"a": True}), r"d\.jsonl:3: field 'relevance'"),
        (lambda r: r.update(relevance={"a": 1.5}), r"d\.jsonl:3: field 'relevance'"),
        (lambda r: r.update(relevance=["a"]), r"d\.jsonl:3: field 'relevance'"),
        (lambda r: r.update(id="q1"), r"d\.jsonl:3: duplicate id 'q1' \(first on line 1\)"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, mutate, message):
    # line 2 is blank: it still counts, so the bad record is reported on line 3
    bad = dict(GOOD[2])
    mutate(bad)
    text = _lines([GOOD[0]]) + "\n" + _lines([bad])
    with pytest.raises(DatasetError, match=message):
        load_dataset(_write(tmp_path, text))


def test_file_level_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"d\.jsonl:1: not valid JSON"):
        load_dataset(_write(tmp_path, "{oops\n"))
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: each line must be a JSON object"):
        load_dataset(_write(tmp_path, _lines(GOOD[:1]) + "[1, 2]\n"))
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(_write(tmp_path, "\n \n"))
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetError, match="UTF-8"):
        load_dataset(_write(tmp_path, _lines(GOOD), encoding="shift_jis"))


def test_dataset_error_is_an_input_error():
    # the CLI turns any KitError into one clear line
    assert issubclass(DatasetError, InputError) and issubclass(DatasetError, KitError)


def test_dataset_from_faq_csv():
    rows = [
        ("data/town/faq.csv#1", "粗大ごみの出し方"),
        ("data/town/faq.csv#2", "  "),
        ("x#3", "犬"),
    ]
    items = dataset_from_faq_csv(rows)
    assert [i.id for i in items] == ["faq-1", "faq-3"]  # a row without a question is skipped
    assert items[0].question == "粗大ごみの出し方"
    assert items[0].answerable and items[0].expected_sources == ("data/town/faq.csv#1",)
    assert items[0].expected_answer_contains == ()
    assert items[1].expected_sources == ("x#3",)
    assert dataset_from_faq_csv([]) == []


@pytest.mark.realdata
def test_real_localgovfaq_set_loads(shared_data):
    items = load_dataset(shared_data / "amagasaki_faq" / "localgovfaq_queries.jsonl")
    assert len(items) == 749
    assert sum(not i.answerable for i in items) == 162
    answerable = [i for i in items if i.answerable]
    assert all(i.expected_sources for i in answerable)
    assert all(i.relevance for i in items)
    # unanswerable items carry only grade-1 "related" judgements
    assert all(max(i.relevance.values()) <= 1 for i in items if not i.answerable)


def test_a_first_line_of_provenance_is_read_apart_and_not_scored(tmp_path):
    from madoguchi.eval.dataset import load_dataset, load_provenance

    p = tmp_path / "blind.jsonl"
    prov = {"provenance": {"written_by": "a helper that never ran the system", "blind": True}}
    item = {"id": "b1", "question": "粗大ごみは？", "answerable": False}
    p.write_text(json.dumps(prov) + "\n" + json.dumps(item) + "\n", encoding="utf-8")
    assert [it.id for it in load_dataset(p)] == ["b1"]
    assert load_provenance(p) == prov["provenance"]
    # anywhere else it is a malformed item, as before
    p.write_text(json.dumps(item) + "\n" + json.dumps(prov) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=":2: field 'id' is required"):
        load_dataset(p)
