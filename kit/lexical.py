"""The lexical side of retrieval: Sudachi tokenisation and a BM25 index (bm25s).

Tokens are Sudachi *normalized forms* (so 引越し/引っ越し and 申込/申し込み meet),
with katakana folded to hiragana (ゴミ/ごみ), after NFKC (full-width digits).
Short units (mode A) give recall; a compound seen in mode C (住民票, 粗大ごみ) is
added as one more token, which rewards exact compounds without losing parts.
Function words and the filler of chat questions (教えて, したいのですが) carry
no topic and are dropped. Sudachi's synonym groups add one token per group,
so 学童 / 放課後児童クラブ and スマホ / スマートフォン match lexically.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_KEEP_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接尾辞", "接頭辞", "記号", "連体詞"}
# Light verbs and chat filler: frequent in questions, silent about the topic.
_STOP = {
    "為る",
    "有る",
    "居る",
    "成る",
    "出来る",
    "言う",
    "思う",
    "教える",
    "知る",
    "良い",
    "分かる",
    "下さる",
    "頂く",
    "御",
    "お",
    "ご",
    "方",
    "事",
    "物",
    "所",
    "時",
    "様",
    "の",
    "ん",
    "さん",
    "いい",
    "よい",
    "どう",
    "何",
    "なに",
    "どこ",
    "いつ",
}
_LATIN = re.compile(r"[a-z0-9]+")
# Bump when the tokenisation rules change: stored tokens are then rebuilt (no re-embedding).
TOKENIZER_VERSION = "sudachi-core-AC-syn-3"


def _synonym_tokens(morphemes: Sequence[Any]) -> list[str]:
    """Sudachi synonym-group ids as extra tokens, so 学童 meets 放課後児童クラブ,
    引っ越し meets 転居 and スマホ meets スマートフォン. Words in more than two groups
    are too ambiguous to expand."""
    out: list[str] = []
    for sm in morphemes:
        groups = sm.synonym_group_ids()
        if 0 < len(groups) <= 2:
            out.extend(f"~{g}" for g in groups if f"~{g}" not in out)
    return out


def kata_to_hira(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)


class JapaneseTokenizer:
    """Thread-safe lazy wrapper around a SudachiPy tokenizer."""

    def __init__(self) -> None:
        self._dict: Any = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def _get(self) -> Any:
        """A tokenizer for this thread, all of them over one loaded dictionary (a
        dictionary per thread cost ~100 MB each in a server's thread pool)."""
        tok = getattr(self._local, "tok", None)
        if tok is None:
            with self._lock:
                if self._dict is None:
                    from sudachipy import dictionary

                    self._dict = dictionary.Dictionary(dict="core")
                tok = self._dict.create()
            self._local.tok = tok
        return tok

    def tokens(self, text: str) -> list[str]:
        from sudachipy import tokenizer as sudachi_tokenizer

        text = unicodedata.normalize("NFKC", text).lower()
        if not text.strip():
            return []
        # Sudachi refuses inputs over ~49k bytes; long documents go in slices.
        out: list[str] = []
        tok = self._get()
        mode_a = sudachi_tokenizer.Tokenizer.SplitMode.A
        mode_c = sudachi_tokenizer.Tokenizer.SplitMode.C
        for start in range(0, len(text), 4000):
            piece = text[start : start + 4000]
            for m in tok.tokenize(piece, mode_c):
                pos = m.part_of_speech()[0]
                if pos not in _KEEP_POS:
                    continue
                surface = m.surface()
                if pos == "記号" and not _LATIN.fullmatch(surface):
                    continue
                subs = (list(m.split(mode_a)) if len(surface) > 1 else []) or [m]
                forms = []
                for sm in subs:
                    if sm.part_of_speech()[0] not in _KEEP_POS:
                        continue
                    f = kata_to_hira(sm.normalized_form()).lower()
                    if f and f not in _STOP and not f.isspace():
                        forms.append(f)
                out.extend(forms)
                if len(subs) > 1:
                    whole = kata_to_hira(m.normalized_form()).lower()
                    if whole not in _STOP:
                        out.append(whole)
                if forms:
                    out.extend(_synonym_tokens([m, *subs] if len(subs) > 1 else [m]))
        return out


_shared_tokenizer = JapaneseTokenizer()


def reading_and_synonyms(text: str) -> tuple[str, list[tuple[str, ...]]]:
    """One mode-C pass over ``text`` (NFKC): its katakana reading (布団 → フトン; words
    without one as written), and the synonym-group ids of each content word as ``~id``
    tokens (チャリ and 自転車 share a group, as デジカメ and デジタルカメラ do; a word in
    more than two groups is too ambiguous and gets none)."""
    from sudachipy import tokenizer as sudachi_tokenizer

    text = unicodedata.normalize("NFKC", text)
    if not text.strip():
        return "", []
    tok = _shared_tokenizer._get()
    mode = sudachi_tokenizer.Tokenizer.SplitMode.C
    read: list[str] = []
    groups: list[tuple[str, ...]] = []
    for start in range(0, len(text), 4000):
        for m in tok.tokenize(text[start : start + 4000], mode):
            read.append(m.reading_form() or m.surface())
            pos = m.part_of_speech()[0]
            if pos in _KEEP_POS and pos != "記号":
                groups.append(tuple(_synonym_tokens([m])))
    return "".join(read), groups


def tokenize(text: str) -> list[str]:
    return _shared_tokenizer.tokens(text)


def topic_nouns(text: str) -> list[str]:
    """The nouns of ``text`` that name a thing (Sudachi: 普通名詞-一般 and 固有名詞, not
    pronouns, counters, times or adjectival nouns), as written: what a question is about
    when it names it (町長, 給料, 出生届), and nothing for 「必要なものは？」."""
    from sudachipy import tokenizer as sudachi_tokenizer

    text = unicodedata.normalize("NFKC", text)[:4000]
    if not text.strip():
        return []
    tok = _shared_tokenizer._get()
    out = []
    for m in tok.tokenize(text, sudachi_tokenizer.Tokenizer.SplitMode.C):
        pos = m.part_of_speech()
        if pos[0] == "名詞" and (pos[1] == "固有名詞" or pos[1:3] == ("普通名詞", "一般")):
            out.append(m.surface())
    return out


def noun_phrases(text: str) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    """Runs of consecutive nouns in ``text`` (キャリー + ケース), each noun as (surface,
    its index token as ``tokenize`` writes it, its synonym-group tokens); numbers and
    pronouns left out. What a question names, for finding words the documents lack."""
    from sudachipy import tokenizer as sudachi_tokenizer

    text = unicodedata.normalize("NFKC", text)[:4000]
    if not text.strip():
        return []
    tok = _shared_tokenizer._get()
    runs: list[list[tuple[str, str, tuple[str, ...]]]] = []
    run: list[tuple[str, str, tuple[str, ...]]] = []
    for m in tok.tokenize(text, sudachi_tokenizer.Tokenizer.SplitMode.C):
        pos = m.part_of_speech()
        if pos[0] == "名詞" and pos[1] in ("普通名詞", "固有名詞"):
            form = kata_to_hira(m.normalized_form()).lower()
            run.append((m.surface(), form, tuple(_synonym_tokens([m]))))
            continue
        if run:
            runs.append(run)
        run = []
    if run:
        runs.append(run)
    return runs


class BM25Index:
    """BM25 over pre-tokenised documents; documents are addressed by position.

    The documents are read once, in order (a generator will do, so a large index never
    holds every document's token strings at once); each document's distinct words are
    kept as sorted ids in one int32 array (about 4 bytes a word, where a set per
    document took kilobytes: 100k chunks' sets were hundreds of MB)."""

    def __init__(self, corpus_tokens: Iterable[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        import bm25s

        self._vocab: dict[str, int] = {}
        df: list[int] = []
        terms = array("i")
        offsets = array("q", [0])
        ids: list[list[int]] = []
        vocab = self._vocab
        for toks in corpus_tokens:
            row = [vocab.setdefault(t, len(vocab)) for t in toks]
            if len(vocab) > len(df):
                df.extend([0] * (len(vocab) - len(df)))
            distinct = sorted(set(row))
            for idx in distinct:
                df[idx] += 1
            terms.extend(distinct)
            offsets.append(len(terms))
            ids.append(row)
        self.size = len(ids)
        self._df = df
        self._terms = np.frombuffer(terms, dtype=np.int32) if terms else np.zeros(0, np.int32)
        self._offsets = np.frombuffer(offsets, dtype=np.int64)
        self._retriever = None
        if self.size and self._vocab:
            tokenized = bm25s.tokenization.Tokenized(ids=ids, vocab=self._vocab)
            self._retriever = bm25s.BM25(k1=k1, b=b)
            self._retriever.index(tokenized, show_progress=False)

    @property
    def nbytes(self) -> int:
        """Memory of the per-document word ids (the BM25 matrix is bm25s's)."""
        return int(self._terms.nbytes + self._offsets.nbytes)

    def doc_terms(self, position: int) -> frozenset[int]:
        """The ids of the distinct words of document ``position``."""
        a, b = self._offsets[position], self._offsets[position + 1]
        return frozenset(self._terms[a:b].tolist())

    def df(self, token: str) -> int:
        """How many documents contain ``token``."""
        idx = self._vocab.get(token)
        return self._df[idx] if idx is not None else 0

    def idf(self, token: str) -> float:
        """Smoothed IDF; a word the corpus never uses gets the highest weight."""
        idx = self._vocab.get(token)
        df = self._df[idx] if idx is not None else 0
        return float(np.log(1.0 + (self.size + 1) / (df + 0.5)))

    def coverage(self, query_tokens: Sequence[str], position: int) -> float:
        """IDF-weighted share of the query's words that document ``position`` contains.

        Low coverage means the question's distinctive words (給料, パスポート) are
        absent from the passage: a sign the documents do not hold the answer.
        """
        terms = set(query_tokens)
        total = sum(self.idf(t) for t in terms)
        if total == 0:
            return 0.0
        doc = self.doc_terms(position)
        found = sum(self.idf(t) for t in terms if self._vocab.get(t, -1) in doc)
        return found / total

    def search(self, query_tokens: Sequence[str], n: int) -> list[tuple[int, float]]:
        """Positions and scores of the best ``n`` documents with a positive score."""
        if self._retriever is None:
            return []
        q = [self._vocab[t] for t in query_tokens if t in self._vocab]
        if not q:
            return []
        scores = np.asarray(self._retriever.get_scores(q), dtype=np.float32)
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n] if n < self.size else np.arange(self.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
