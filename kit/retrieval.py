"""Hybrid retrieval: dense (multilingual embeddings) + BM25 (Sudachi), fused by a
weighted sum of the signals' scores (or, by setting, weighted reciprocal rank fusion).

Signals, each ranking all chunks independently:
- ``dense``: cosine similarity of the query and chunk embeddings; the only
  signal that crosses languages (an English question finds a Japanese answer);
- ``bm25``: BM25 over Sudachi normalized forms of the chunk text;
- ``title``: dense similarity of the query and the title field alone (FAQ
  question, section heading): query-to-question similarity is the strongest
  evidence in FAQ retrieval, and short titles cross languages better than
  long answers;
- ``lead``: dense similarity to a FAQ answer's first sentence (``kit.fields.lead_text``),
  where the town states the point of its answer (other chunks: their passage's);
- ``question``: BM25 over the chunk's title field alone — the FAQ *question*,
  or a page section's heading — so a resident's phrasing that matches an
  official question or heading outranks a long text that merely mentions the
  same words.

Score fusion (the default) adds the cosines as they are and BM25 divided by the
query's best BM25 score: on the localgovFAQ tuning half it beat the best RRF weights
(nDCG@10 0.650 against 0.631), because ranks throw away how far ahead a candidate
is. RRF stays available (``retrieval.fusion = "rrf"``). Raw values stay on each hit
(``signals``) for the answerer's confidence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from madoguchi.kit.config import RetrievalSettings
from madoguchi.kit.glossary import WARM_LANGS, Glossary, Match, bundled
from madoguchi.kit.lang import base_lang, romaji_kana
from madoguchi.kit.lexical import tokenize
from madoguchi.kit.protocols import Embedder
from madoguchi.kit.store import Hits, SearchView, Store, best_of
from madoguchi.kit.synonyms import Expansion, SynonymFile, Synonyms
from madoguchi.kit.types import ScoredChunk


@dataclass
class RetrievalTrace:
    timings: dict[str, float] = field(default_factory=dict)
    query_tokens: list[str] = field(default_factory=list)
    # the best raw value of each signal over all chunks
    top: dict[str, float] = field(default_factory=dict)
    # each signal's own ranking (chunk id, raw score), before fusion
    ranked: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    # words of the town's synonym list found in the question (kit.synonyms)
    expansions: list[Expansion] = field(default_factory=list)
    # glossary phrases of a question in another language, and their Japanese terms
    glossary: list[Match] = field(default_factory=list)
    # a romanised Japanese question in hiragana (kit.lang.romaji_kana), else ""
    romaji: str = ""


@dataclass(frozen=True)
class _Query:
    """One question as every signal sees it: its variants (the town's synonyms) and
    their tokens."""

    variants: list[str]
    tokens: list[str]  # the question's own words
    variant_tokens: list[list[str]]  # each variant's words, the question's first
    all_tokens: list[str]  # the question's words, then the variants' new ones
    # a question in a language the documents are not written in: only the glossary's
    # Japanese terms are matched as words (the question's own words meet them by accident)
    japanese: str = ""


class HybridRetriever:
    """The ``Retriever`` of the kit: every signal over a ``Store``'s current view."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: RetrievalSettings,
        synonyms: SynonymFile | Synonyms | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.synonyms = synonyms
        self._glossary = glossary

    @property
    def glossary(self) -> Glossary | None:
        """The municipal glossary (the bundled one unless given; off by setting)."""
        if not self.settings.glossary:
            return None
        if self._glossary is None:
            self._glossary = bundled()
        return self._glossary

    def _synonyms(self) -> Synonyms | None:
        if isinstance(self.synonyms, SynonymFile):
            return self.synonyms.current()
        return self.synonyms

    def warm_up(self) -> None:
        """Load everything the first real question would: catalogue state, tokenizer,
        model, the glossary, and the vector indexes (Chroma reads its HNSW files on first
        query)."""
        self.search("ウォームアップ", 1)
        if self.glossary is not None:
            self.glossary.warm_up(WARM_LANGS)

    def retrieve(self, query: str, k: int) -> list[ScoredChunk]:
        """The ``kit.protocols.Retriever`` interface: the best ``k`` chunks."""
        return self.search(query, k)[0]

    def search(
        self, query: str, k: int | None = None, *, lang: str | None = None
    ) -> tuple[list[ScoredChunk], RetrievalTrace]:
        """The best ``k`` chunks for ``query``, asked in ``lang`` (None: any).

        Words are matched only when the documents are written in the question's language
        (Japanese, or a language the town's FAQ has translations in): otherwise an English
        or Vietnamese question's words meet the Japanese documents only by accident (a
        stray Latin token, ＦＡＱ), and BM25, divided by its best score, would give that
        accident full weight; the multilingual embeddings carry such a question alone.

        A question holding a word of the town's synonym list is also searched with that
        word replaced by the others of its group; each signal keeps a chunk's best value
        over the variants."""
        s = self.settings
        k = k or s.k
        trace = RetrievalTrace()
        view = self.store.view()
        if not len(view):
            return [], trace
        n = max(s.candidates, k)
        lexical = lang is None or base_lang(lang) in view.languages
        kana = romaji_kana(query) if s.romaji else None
        # romanised Japanese meets the glossary's romaji forms too (sodai gomi: 粗大ごみ)
        q = self._query(query, trace, foreign=not lexical or bool(kana), lang=lang, kana=kana)
        ranked: dict[str, Hits] = {}
        if s.mode in ("hybrid", "dense"):
            ranked.update(self._dense(view, q, n, trace))
        t = time.perf_counter()
        trace.query_tokens = q.tokens
        words = q.all_tokens if lexical else tokenize(q.japanese)
        if words and (s.mode == "bm25" or (s.mode == "hybrid" and (lexical or q.japanese))):
            ranked["bm25"] = view.lexical_search("text", words, n)
            ranked["question"] = view.lexical_search("title", words, n)
            trace.timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        if s.mode == "hybrid" and (lexical or q.japanese) and view.has_names:
            t = time.perf_counter()
            named = q.variants if lexical else [q.japanese]
            ranked["name"] = best_of([view.name_search(v) for v in named], n)
            trace.timings["name_ms"] = (time.perf_counter() - t) * 1000
        out = self._fuse(view, ranked, q, n, k, trace)
        for name, hits in ranked.items():
            if hits:
                trace.top[name] = hits[0][1]
        trace.ranked = ranked
        return out, trace

    def _query(
        self,
        query: str,
        trace: RetrievalTrace,
        *,
        foreign: bool = False,
        lang: str | None = None,
        kana: str | None = None,
    ) -> _Query:
        syn = self._synonyms()
        variants = [query]
        if syn is not None and len(syn):
            trace.expansions, more = syn.rewrites(query)
            variants += more
        japanese = ""
        glossary = self.glossary if foreign else None
        if glossary is not None:
            trace.glossary = glossary.matches(query, lang)
            terms = list(dict.fromkeys(m.japanese for m in trace.glossary))[:4]
            if terms:  # the question once more with the Japanese terms it names
                japanese = " ".join(terms)
                variants.append(f"{query} {japanese}")
        if kana:  # romanised Japanese: searched in hiragana too, dense and lexical
            trace.romaji = kana
            variants.append(kana)
            japanese = f"{japanese} {kana}".strip()
        toks = tokenize(query)  # also needed for coverage, whatever the mode
        variant_toks = [toks, *(tokenize(v) for v in variants[1:])]
        seen = set(toks)  # a word the question repeats counts twice, as before
        all_toks = toks + [t for vt in variant_toks[1:] for t in vt if t not in seen]
        return _Query(variants, toks, variant_toks, all_toks, japanese)

    def _dense(self, view: SearchView, q: _Query, n: int, trace: RetrievalTrace) -> dict[str, Hits]:
        """The embedding signals: passage, title field and lead sentence."""
        t = time.perf_counter()
        qvecs = [self.embedder.embed_query(v) for v in q.variants]
        trace.timings["embed_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        ranked: dict[str, Hits] = {"dense": view.passage_search(qvecs, n)}
        # title vectors are shared by chunks with the same title: fan them out
        ranked["title"] = [(cid, sim) for ids, sim in view.title_search(qvecs, n) for cid in ids][
            : n * 2
        ]
        if view.has_leads:
            # a chunk without a lead sentence (a page section, a PDF passage, a table
            # row: short and to the point already) stands in with its passage's
            # similarity, so FAQ rows do not outrank pages merely by having a lead
            stand_in = [(c, v) for c, v in ranked["dense"] if not view.has_lead(c)]
            ranked["lead"] = best_of([view.lead_search(qvecs, n), stand_in], n)
        trace.timings["dense_ms"] = (time.perf_counter() - t) * 1000
        return ranked

    def _fuse(
        self,
        view: SearchView,
        ranked: dict[str, Hits],
        q: _Query,
        n: int,
        k: int,
        trace: RetrievalTrace,
    ) -> list[ScoredChunk]:
        s = self.settings
        t = time.perf_counter()
        for name, hits in ranked.items():  # a vector whose row is gone: never surface it
            ranked[name] = [(cid, raw) for cid, raw in hits if cid in view]
        ranks: dict[str, dict[str, int]] = {}
        signals: dict[str, dict[str, float]] = {}
        for name, hits in ranked.items():
            for rank, (cid, raw) in enumerate(hits, start=1):
                ranks.setdefault(cid, {})[name] = rank
                signals.setdefault(cid, {})[name] = raw
        fused = _rrf(ranks, s) if s.fusion == "rrf" else _score_fusion(ranked, signals, s, n)
        order = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        trace.timings["fuse_ms"] = (time.perf_counter() - t) * 1000
        # A hit found by its words alone still needs a similarity for the answerer's
        # confidence: below the dense list's last value is all that is known, so that
        # value (an upper bound) stands in; its missing dense rank tells the rest.
        for name in ("dense", "title"):
            if ranked.get(name):
                last = ranked[name][-1][1]
                for cid in order:
                    signals[cid].setdefault(name, last)
        if q.tokens:
            for cid in order:
                signals[cid]["coverage"] = max(
                    view.coverage(vt, cid) for vt in q.variant_tokens if vt
                )
        return [
            ScoredChunk(
                chunk=view.chunk(cid), score=fused[cid], ranks=ranks[cid], signals=signals[cid]
            )
            for cid in order
        ]


def _rrf(ranks: dict[str, dict[str, int]], s: RetrievalSettings) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of w / (rrf_k + rank) over the signals."""
    weights = {
        "dense": s.dense_weight,
        "bm25": s.bm25_weight,
        "question": s.question_weight,
        "title": s.title_weight,
    }
    return {
        cid: sum(weights.get(name, 0.0) / (s.rrf_k + r) for name, r in rk.items())
        for cid, rk in ranks.items()
    }


def _score_fusion(
    ranked: dict[str, list[tuple[str, float]]],
    signals: dict[str, dict[str, float]],
    s: RetrievalSettings,
    n: int,
) -> dict[str, float]:
    """Weighted sum of the signals' values over the union of their candidate lists.

    Cosines are used as they are (on one scale for every query); BM25 is divided by
    the query's best BM25 score, since raw BM25 grows with the query's length. A
    candidate missing from a full list gets that list's last value (it ranked below
    it), from a list cut short by having no more matches (BM25) zero. The result is
    shifted so the weakest candidate scores 0: the answerer compares scores as
    ratios to the top one.
    """
    fill: dict[str, float] = {}
    scale: dict[str, float] = {}
    for name, hits in ranked.items():
        if not hits:
            continue
        lexical = name in ("bm25", "question", "name")
        scale[name] = 1.0 / hits[0][1] if name in ("bm25", "question") and hits[0][1] > 0 else 1.0
        full = len(hits) >= n
        fill[name] = hits[-1][1] if full or not lexical else 0.0
    used = [(name, w * scale[name]) for name, w in s.score_weights.items() if w and name in scale]
    # what a chunk in none of the lists would score: every candidate is at or above it
    floor = sum(w * fill[name] for name, w in used)
    return {
        cid: sum(w * sig.get(name, fill[name]) for name, w in used) - floor
        for cid, sig in signals.items()
    }
