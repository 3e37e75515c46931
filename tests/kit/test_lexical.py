from madoguchi.kit.lexical import BM25Index, tokenize


def test_normalised_forms_meet():
    # 表記ゆれ: okurigana and katakana/hiragana variants reach the same tokens
    assert "引っ越し" in tokenize("引越しの手続き")
    assert "引っ越し" in tokenize("引っ越しの手続き")
    assert "申し込み" in tokenize("申込書")
    assert "ごみ" in tokenize("粗大ゴミ")
    assert "ごみ" in tokenize("粗大ごみ")


def test_filler_and_particles_dropped():
    toks = tokenize("住民票を取りたいのですが、教えてください")
    assert "住民票" in toks
    for filler in ("を", "の", "です", "教える", "為る"):
        assert filler not in toks


def test_fullwidth_and_latin_are_folded():
    assert tokenize("ＰＤＦ") == tokenize("pdf")
    assert "0120" in tokenize("０１２０")


def test_empty_and_long_inputs():
    assert tokenize("") == []
    assert tokenize("   ") == []
    long = "住民票の写し。" * 20000  # far beyond Sudachi's single-input limit
    assert len(tokenize(long)) > 1000


def test_bm25_ranks_matching_document_first():
    docs = ["粗大ごみは予約制です。", "住民票の写しの取り方", "犬の登録と狂犬病予防注射"]
    ix = BM25Index([tokenize(d) for d in docs])
    hits = ix.search(tokenize("粗大ゴミを出したい"), 3)
    assert hits[0][0] == 0
    assert all(score > 0 for _, score in hits)
    assert ix.search(tokenize("宇宙旅行"), 3) == []
    assert BM25Index([]).search(["x"], 3) == []


def test_synonym_groups_meet():
    # Sudachi synonym groups: 学童 / 放課後児童クラブ, スマホ / スマートフォン, 引っ越し / 転居
    for a, b in (("学童", "放課後児童クラブ"), ("スマホ", "スマートフォン"), ("引っ越し", "転居")):
        shared = {t for t in tokenize(a) if t.startswith("~")} & set(tokenize(b))
        assert shared, (a, b)
    docs = ["放課後児童クラブの利用料は月額3,000円です。", "図書館の開館時間"]
    ix = BM25Index([tokenize(d) for d in docs])
    assert ix.search(tokenize("学童の料金"), 2)[0][0] == 0


def test_threads_share_one_dictionary_and_agree():
    import threading

    from madoguchi.kit.lexical import JapaneseTokenizer

    jt = JapaneseTokenizer()
    want = jt.tokens("スマホで住民票を取りたい")
    got: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: got.append(jt.tokens("スマホで住民票を取りたい")))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 4
    # one dictionary loaded for all threads (each used to load its own, ~100 MB apiece)
    assert jt._dict is not None
