"""FAQ and table CSVs: encodings, flexible columns, record numbering, bad files, real data."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from madoguchi.connectors.faq_csv import FaqCsvConnector, is_faq, is_faq_csv, map_columns
from madoguchi.kit.errors import ParseError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

STANDARD = (
    "ID,地方公共団体コード,地方公共団体名,質問,回答,所管部署,電話番号,URL,更新日,カテゴリ\n"
    "101,000000,みどり川町,粗大ごみの出し方は？,電話で予約してください。,環境衛生課,0120-000-111,"
    "https://example.invalid/gomi,2025-04-01,くらし\n"
    "102,000000,みどり川町,住民票の写しは？,住民課の窓口で交付します。,住民課,,,,\n"
)


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return p


def docs(path: Path, sid: str = "faq.csv") -> tuple[list, FaqCsvConnector]:
    conn = FaqCsvConnector(path, sid)
    return list(conn.documents()), conn


def test_standard_layout_row_becomes_one_faq_document(tmp_path):
    got, conn = docs(write(tmp_path, "faq.csv", STANDARD))
    assert [d.source_id for d in got] == ["faq.csv#101", "faq.csv#102"]
    d = got[0]
    assert d.title == "粗大ごみの出し方は？"
    assert d.body == "粗大ごみの出し方は？\n電話で予約してください。"
    assert d.mime == "text/csv"
    assert d.meta == {
        "kind": "faq",
        "question": "粗大ごみの出し方は？",
        "answer": "電話で予約してください。",
        "department": "環境衛生課",
        "phone": "0120-000-111",
        "url": "https://example.invalid/gomi",
        "updated": "2025-04-01",
        "category": "くらし",
    }
    # missing cells are left out, never stored as ""
    assert got[1].meta == {
        "kind": "faq",
        "question": "住民票の写しは？",
        "answer": "住民課の窓口で交付します。",
        "department": "住民課",
    }
    assert all(isinstance(v, str) for d in got for v in d.meta.values())
    assert conn.kind == "faq" and conn.skipped == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "shift_jis", "utf-16"])
def test_every_common_encoding_reads_the_same(tmp_path, encoding):
    text = STANDARD.replace("\n", "\r\n") if encoding == "cp932" else STANDARD
    got, _ = docs(write(tmp_path, "faq.csv", text, encoding))
    assert [d.title for d in got] == ["粗大ごみの出し方は？", "住民票の写しは？"]
    assert got[0].meta["department"] == "環境衛生課"


def test_cp932_only_characters_decode(tmp_path):
    # ① and ㈱ exist in CP932 but not in strict Shift_JIS
    got, _ = docs(write(tmp_path, "f.csv", "No,Q,A\n1,①の手続きは？,㈱窓口へ。\n", "cp932"))
    assert got[0].meta["question"] == "①の手続きは？"
    assert got[0].meta["answer"] == "㈱窓口へ。"


def test_euc_jp_falls_back_to_charset_detection(tmp_path):
    text = "番号,質問,回答\n1,住民票の写しはどこで取れますか。,役場の住民課窓口で交付します。手数料は300円です。\n"
    got, _ = docs(write(tmp_path, "f.csv", text, "euc_jp"))
    assert got[0].meta["answer"] == "役場の住民課窓口で交付します。手数料は300円です。"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["ID", "質問", "回答", "所管部署", "電話番号"],
            ["id", "question", "answer", "department", "phone"],
        ),
        (
            ["No", "問い", "答え", "担当課", "TEL"],
            ["id", "question", "answer", "department", "phone"],
        ),
        (["番号", "Q", "A", "部署", "電話"], ["id", "question", "answer", "department", "phone"]),
        (
            ["FAQ_ID", "question", "answer", "問い合わせ先", "phone"],
            ["id", "question", "answer", "department", "phone"],
        ),
        (
            ["ｎｏ", "Ｑ", "Ａ", "担当部署", "ＴＥＬ"],
            ["id", "question", "answer", "department", "phone"],
        ),
        (
            ["タイトル", "回答", "リンク", "最終更新日", "分類"],
            ["question", "answer", "url", "updated", "category"],
        ),
        (
            ["質問文", "回答文", "担当部署名", "代表電話"],
            ["question", "answer", "department", "phone"],
        ),
    ],
)
def test_column_names_are_matched_flexibly(header, expected):
    cols = map_columns(header)
    assert [f for f, _ in sorted(cols.items(), key=lambda kv: kv[1])] == expected
    assert is_faq(header)


def test_contact_column_is_never_taken_for_the_question():
    cols = map_columns(["問い合わせ先", "質問", "回答"])
    assert cols == {"department": 0, "question": 1, "answer": 2}


def test_quoted_multiline_record_counts_once(tmp_path):
    text = (
        "質問,回答\n"
        '"ごみの\n出し方は？","月曜と木曜。\n""燃やすごみ""は8時までに。"\n'
        "犬の登録は？,30日以内に。\n"
    )
    got, _ = docs(write(tmp_path, "f.csv", text))
    assert [d.source_id for d in got] == ["faq.csv#1", "faq.csv#2"]
    assert got[0].meta["question"] == "ごみの\n出し方は？"
    assert got[0].meta["answer"] == '月曜と木曜。\n"燃やすごみ"は8時までに。'


def test_empty_rows_are_counted_and_reported(tmp_path):
    text = "質問,回答\n一つ目？,はい。\n,\n\n三つ目？,\n,四つ目だけ回答\n\n\n"
    got, conn = docs(write(tmp_path, "f.csv", text))
    # record numbers count the blank records; trailing blank lines are not records
    assert [d.source_id for d in got] == ["faq.csv#1", "faq.csv#4", "faq.csv#5"]
    assert conn.skipped == [("faq.csv#2", "empty row"), ("faq.csv#3", "empty row")]
    assert got[1].body == "三つ目？\n" and got[2].title == "四つ目だけ回答"


def test_duplicate_id_keeps_the_first_and_reports_the_second(tmp_path):
    text = "ID,質問,回答\n7,最初？,はい。\n7,二回目？,いいえ。\n8,別？,はい。\n"
    got, conn = docs(write(tmp_path, "f.csv", text))
    assert [(d.source_id, d.title) for d in got] == [("faq.csv#7", "最初？"), ("faq.csv#8", "別？")]
    assert len(conn.skipped) == 1
    sid, reason = conn.skipped[0]
    assert sid == "faq.csv#7" and "duplicate" in reason


def test_rows_without_an_id_value_use_the_record_number(tmp_path):
    got, _ = docs(write(tmp_path, "f.csv", "ID,質問,回答\nA-1,一？,はい。\n,二？,はい。\n"))
    assert [d.source_id for d in got] == ["faq.csv#A-1", "faq.csv#2"]


def test_tab_separated_file(tmp_path):
    got, _ = docs(write(tmp_path, "f.csv", "質問\t回答\n開庁時間は？\t8時30分からです。\n"))
    assert got[0].meta["answer"] == "8時30分からです。"


def test_5374_style_table_puts_the_item_name_first_in_residents_words(tmp_path):
    text = (
        "type,name,notice,furigana\n"
        '可燃ごみ,アルミ容器（汚れているもの）,"汚れを落とせない場合。\n袋に入れて出す。",あ\n'
        "不燃ごみ,スプレー缶,穴を開けずに出してください,す\n"
    )
    got, conn = docs(write(tmp_path, "target.csv", text, "cp932"), "town/target.csv")
    assert conn.kind == "table"
    assert [d.source_id for d in got] == ["town/target.csv#1", "town/target.csv#2"]
    d = got[0]
    assert d.title == "アルミ容器（汚れているもの）"
    assert d.body.splitlines() == [
        "品目: アルミ容器（汚れているもの）",
        "分別: 可燃ごみ",
        "出し方・注意: 汚れを落とせない場合。",
        "袋に入れて出す。",
    ]
    # the one-kana reading index is kept aside, not shown nor embedded
    assert d.meta == {"kind": "table", "columns": "type,name,notice,furigana", "reading": "あ"}
    assert "furigana" not in got[1].body and "す" not in got[1].body.split("\n")[-1][-1:]


def test_plain_name_and_type_columns_keep_their_headers_without_the_5374_trio(tmp_path):
    text = "name,kind,notes\n公民館,集会所,駐車場あり\n"
    got, _ = docs(write(tmp_path, "facilities.csv", text), "town/facilities.csv")
    assert got[0].body.splitlines() == ["name: 公民館", "kind: 集会所", "notes: 駐車場あり"]


def test_unknown_columns_make_a_table_with_a_text_title(tmp_path):
    text = "番号,施設,住所,収容人数\n1,中央公民館,本町1-1,200\n2,,北町2-2,\n"
    got, conn = docs(write(tmp_path, "shelters.csv", text))
    assert conn.kind == "table"
    # the ID column gives the source id, the first text cell the title
    assert [d.source_id for d in got] == ["faq.csv#1", "faq.csv#2"]
    assert got[0].title == "中央公民館"
    assert got[0].body.splitlines()[0] == "施設: 中央公民館"
    assert "収容人数: 200" in got[0].body
    assert got[1].title == "北町2-2"


def test_table_record_with_only_empty_cells_is_skipped(tmp_path):
    got, conn = docs(write(tmp_path, "t.csv", "品目,分別\nびん,資源\n,\nかん,資源\n"))
    assert [d.source_id for d in got] == ["faq.csv#1", "faq.csv#3"]
    assert conn.skipped == [("faq.csv#2", "empty row")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no rows"),
        (b"\r\n\r\n", "no rows"),
        ("ID,質問,回答\n".encode(), "header only, no rows"),
        ("\ufeffID,質問,回答\r\n\r\n".encode(), "header only, no rows"),
        (b"1,2,3\n4,5,6\n", "no header"),
        ("１,,２\n3,a,b\n".encode(), "no header"),
        (b"just one line of words\nand another\n", "one column"),
    ],
)
def test_unusable_csv_is_a_parse_error_naming_the_file(tmp_path, data, message):
    path = write(tmp_path, "bad.csv", data)
    with pytest.raises(ParseError, match=message) as err:
        docs(path, "town/bad.csv")
    assert str(err.value).startswith("town/bad.csv: ")


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        b"PK\x03\x04" + bytes(range(1, 32)) * 20,  # no NUL, but control characters
    ],
)
def test_binary_file_named_csv_is_a_clear_parse_error(tmp_path, data):
    path = write(tmp_path, "photo.csv", data)
    with pytest.raises(ParseError, match=r"^town/photo\.csv: binary data"):
        docs(path, "town/photo.csv")


def test_sniffing_a_file(tmp_path):
    assert is_faq_csv(write(tmp_path, "a.csv", STANDARD))
    assert not is_faq_csv(write(tmp_path, "b.csv", "type,name,notice\nx,y,z\n"))
    assert not is_faq_csv(write(tmp_path, "c.csv", b""))
    assert not is_faq_csv(tmp_path / "missing.csv")


def test_utf16_bom_detected_before_the_nul_check(tmp_path):
    data = codecs.BOM_UTF16_LE + "質問\t回答\n開庁は？\t8時半。\n".encode("utf-16-le")
    got, _ = docs(write(tmp_path, "excel.csv", data))
    assert got[0].title == "開庁は？"


# ---------------------------------------------------------------- real data


def real(rel: str) -> Path:
    path = SHARED_DATA / rel
    if not path.is_file():
        pytest.skip(f"../shared/data/{rel} is not present")
    return path


@pytest.mark.realdata
def test_real_amagasaki_faq_utf8_bom():
    got, conn = docs(real("amagasaki_faq/faq.csv"), "data/amagasaki_faq/faq.csv")
    assert len(got) == 1786 and conn.skipped == []
    assert conn.kind == "faq"
    assert got[0].source_id == "data/amagasaki_faq/faq.csv#0"
    assert got[-1].source_id == "data/amagasaki_faq/faq.csv#1785"
    assert all(d.meta["kind"] == "faq" and d.meta["question"] for d in got)
    assert sum("department" in d.meta for d in got) == 1641
    assert sum("phone" in d.meta for d in got) == 1581


@pytest.mark.realdata
def test_real_kameoka_5374_shift_jis_with_quoted_newlines():
    got, conn = docs(real("kameoka_5374/target.csv"), "data/kameoka_5374/target.csv")
    assert len(got) == 1760 and conn.skipped == []
    assert conn.kind == "table"
    assert [d.source_id for d in got[:2]] == [
        "data/kameoka_5374/target.csv#1",
        "data/kameoka_5374/target.csv#2",
    ]
    assert got[-1].source_id == "data/kameoka_5374/target.csv#1760"
    assert all(d.body.startswith(f"品目: {d.title}") for d in got[:50])
    assert any("\n" in d.body.split("notice: ", 1)[-1] for d in got), "a multi-line notice"
    assert not any("\ufffd" in d.body for d in got), "decoded without replacement characters"


@pytest.mark.realdata
def test_real_kyotango_5374_utf8_crlf():
    got, conn = docs(real("kyotango_5374/target.csv"), "data/kyotango_5374/target.csv")
    assert len(got) == 776 and conn.skipped == []
    assert conn.kind == "table"
    assert got[-1].source_id == "data/kyotango_5374/target.csv#776"
    assert not any("\r" in d.body for d in got)


# --- translations linked to the same entry -------------------------------------------

BILINGUAL = (
    "ID,質問,回答,質問_en,回答_en,Question (Tiếng Việt),Answer (Vietnamese),"
    "回答（やさしい日本語）,所管部署\n"
    "1,粗大ごみの出し方は？,電話で予約してください。,How do I put out large garbage?,"
    "Please book by phone.,Vứt rác cỡ lớn thế nào?,Hãy đặt lịch qua điện thoại.,"
    "電話で 予約して ください。,環境衛生課\n"
    "2,住民票の写しは？,住民課で交付します。,,,,,,住民課\n"
)


def test_translation_columns_are_linked_to_the_entry(tmp_path):
    got, conn = docs(write(tmp_path, "faq.csv", BILINGUAL))
    assert [d.source_id for d in got] == ["faq.csv#1", "faq.csv#2"]
    m = got[0].meta
    assert m["question"] == "粗大ごみの出し方は？" and m["answer"] == "電話で予約してください。"
    assert m["question_en"] == "How do I put out large garbage?"
    assert m["answer_en"] == "Please book by phone."
    assert m["question_vi"] == "Vứt rác cỡ lớn thế nào?"
    assert m["answer_vi"] == "Hãy đặt lịch qua điện thoại."
    assert m["answer_ja-easy"] == "電話で 予約して ください。"
    assert m["langs"] == "en,ja-easy,vi"
    # translated questions are indexed with the entry; answers stay in meta
    assert got[0].body.startswith("粗大ごみの出し方は？\n電話で予約してください。")
    assert "How do I put out large garbage?" in got[0].body
    assert "Please book by phone." not in got[0].body
    # an entry without translations is unchanged
    assert "langs" not in got[1].meta and got[1].body == "住民票の写しは？\n住民課で交付します。"
    assert conn.kind == "faq" and conn.skipped == []


def test_translation_columns_never_stand_for_the_japanese_fields():
    header = ["質問_en", "回答_en", "質問文", "回答文", "ID"]
    assert map_columns(header) == {"id": 4, "question": 2, "answer": 3}


def test_sibling_language_files_share_the_ids(tmp_path):
    write(tmp_path, "faq.csv", STANDARD)
    write(
        tmp_path,
        "faq_en.csv",
        "ID,Question,Answer\n101,How do I put out large garbage?,Book by phone.\n"
        "999,Orphan,No such entry\n",
    )
    write(tmp_path, "faq_zh-Hant.csv", "ID,質問,回答\n102,如何申請住民票？,請到住民課窗口。\n")
    got, _conn = docs(tmp_path / "faq.csv", "town/faq.csv")
    assert [d.source_id for d in got] == ["town/faq.csv#101", "town/faq.csv#102"]
    assert got[0].meta["answer_en"] == "Book by phone." and got[0].meta["langs"] == "en"
    assert got[1].meta["question_zh-Hant"] == "如何申請住民票？"
    assert got[1].meta["answer_zh-Hant"] == "請到住民課窗口。"
    # the translation file itself yields nothing: its rows are not entries of their own
    en_docs, en_conn = docs(tmp_path / "faq_en.csv", "town/faq_en.csv")
    assert en_docs == [] and en_conn.kind == "translation"
    assert "en translation of faq.csv" in en_conn.skipped[0][1]


def test_folder_walk_indexes_translated_entries_once(tmp_path):
    from madoguchi.connectors.folder import FolderConnector

    write(tmp_path, "faq.csv", STANDARD)
    write(tmp_path, "faq_ko.csv", "ID,질문,답변,Question,Answer\n101,,,대형 쓰레기?,전화 예약\n")
    folder = FolderConnector([tmp_path.name], base=tmp_path.parent)
    got = list(folder.documents())
    assert [d.source_id.split("/")[-1] for d in got] == ["faq.csv#101", "faq.csv#102"]
    assert got[0].meta["question_ko"] == "대형 쓰레기?"


def test_broken_translation_file_is_reported_and_the_base_still_reads(tmp_path):
    write(tmp_path, "faq.csv", STANDARD)
    write(tmp_path, "faq_en.csv", b"\x00\x01binary")
    got, conn = docs(tmp_path / "faq.csv")
    assert len(got) == 2 and "langs" not in got[0].meta
    assert conn.skipped and conn.skipped[0][0] == "faq_en.csv"
    assert "binary" in conn.skipped[0][1]


def test_a_language_suffix_without_a_base_file_is_an_ordinary_faq(tmp_path):
    got, conn = docs(write(tmp_path, "faq_en.csv", STANDARD), "faq_en.csv")
    assert len(got) == 2 and conn.kind == "faq"


def test_machine_translation_files_are_not_taken_for_the_towns_own(tmp_path):
    """faq_zh-Hans.mt.csv must not pass for a sibling zh-Hans file (its tag reads as zh-Hans
    once the .mt is ignored): it is read as machine translations, checked against the hash."""
    from madoguchi.connectors.faq_csv import (
        MachineTranslation,
        machine_translation_path,
        source_hash,
        translation_files,
        write_machine_translations,
    )

    faq = tmp_path / "faq.csv"
    faq.write_text(
        "ID,質問,回答\n1,ごみの日は？,月曜日です。\n2,犬の登録,3000円です。\n", encoding="utf-8"
    )
    path = machine_translation_path(faq, "zh-Hans")
    assert path.name == "faq_zh-Hans.mt.csv"
    write_machine_translations(
        path,
        {
            "1": MachineTranslation(
                "1",
                "垃圾日是哪天？",
                "星期一。",
                "machine",
                source_hash("ごみの日は？", "月曜日です。"),
            ),
            "2": MachineTranslation("2", "狗的登记", "3000日元。", "machine", "0" * 16),
        },
    )
    assert translation_files(faq) == []
    conn = FaqCsvConnector(faq, "faq.csv")
    docs = {d.source_id: d.meta for d in conn.documents()}
    assert docs["faq.csv#1"]["answer_zh-Hans"] == "星期一。"
    assert docs["faq.csv#1"]["machine_langs"] == "zh-Hans" and "狗" not in str(docs["faq.csv#2"])
    assert conn.skipped == [
        (
            "faq_zh-Hans.mt.csv#2",
            "machine translation of an earlier Japanese text, not used (run 'madoguchi translate' again)",
        )
    ]
    own = {
        d.source_id: d.meta
        for d in FaqCsvConnector(faq, "faq.csv", machine_translations=False).documents()
    }
    assert "langs" not in own["faq.csv#1"]
