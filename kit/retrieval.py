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
- ``lead``: dense similarity to a FAQ answer's first sentence (``ingest.index.lead_text``),
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

from madoguchi.ingest.index import Index
from madoguchi.kit.config import RetrievalSettings
from madoguchi.kit.lang import base_lang
from madoguchi.kit.lexical import tokenize
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


class HybridRetriever:
    def __init__(
        self,
        index: Index,
        settings: RetrievalSettings,
        synonyms: SynonymFile | Synonyms | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self.synonyms = synonyms

    def _synonyms(self) -> Synonyms | None:
        if isinstance(self.synonyms, SynonymFile):
            return self.synonyms.current()
        return self.synonyms

    def warm_up(self) -> None:
        """Load everything the first real question would: catalogue state, tokenizer,
        model, and the vector indexes (Chroma reads its HNSW files on first query)."""
        self.search("ウォームアップ", 1)

    def retrieve(self, query: str, k: int | None = None) -> list[ScoredChunk]:
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
        state = self.index.search_state()
        if not state.chunks:
            return [], trace
        n = max(s.candidates, k)
        ranked: dict[str, list[tuple[str, float]]] = {}
        lexical = lang is None or base_lang(lang) in state.languages
        syn = self._synonyms()
        variants = [query]
        if syn is not None and len(syn):
            trace.expansions, more = syn.rewrites(query)
            variants += more

        if s.mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qvecs = [self.index.embedder.embed_query(v) for v in variants]
            trace.timings["embed_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            vectors = state.dense or self.index.vectors
            titles = state.titles or self.index.title_vectors
            ranked["dense"] = _best([vectors.query(qv, n) for qv in qvecs], n)
            # title vectors are shared by chunks with the same title: fan them out
            title_hits = _best([titles.query(qv, n) for qv in qvecs], n)
            ranked["title"] = [
                (state.chunks[pos].id, sim)
                for tid, sim in title_hits
                for pos in state.by_title.get(tid, ())
            ][: n * 2]
            if state.with_lead:
                # a chunk without a lead sentence (a page section, a PDF passage, a table
                # row: short and to the point already) stands in with its passage's
                # similarity, so FAQ rows do not outrank pages merely by having a lead
                leads = state.leads or self.index.lead_vectors
                stand_in = [(c, v) for c, v in ranked["dense"] if c not in state.with_lead]
                lead_hits = [leads.query(qv, n) for qv in qvecs]
                ranked["lead"] = _best([*lead_hits, stand_in], n)
            trace.timings["dense_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        toks = tokenize(query)  # also needed for coverage, whatever the mode
        trace.query_tokens = toks
        # each variant's words, for coverage; BM25 searches them all at once
        variant_toks = [toks, *(tokenize(v) for v in variants[1:])]
        seen = set(toks)  # a word the question repeats counts twice, as before
        all_toks = toks + [t for vt in variant_toks[1:] for t in vt if t not in seen]
        if s.mode == "bm25" or (s.mode == "hybrid" and lexical):
            ranked["bm25"] = [
                (state.chunks[i].id, sc) for i, sc in state.bm25_text.search(all_toks, n)
            ]
            ranked["question"] = [
                (state.chunks[i].id, sc) for i, sc in state.bm25_question.search(all_toks, n)
            ]
            trace.timings["bm25_ms"] = (time.perf_counter() - t) * 1000
        if s.mode == "hybrid" and lexical and state.names is not None and len(state.names):
            t = time.perf_counter()
            names = state.names
            ranked["name"] = _best(
                [[(state.chunks[i].id, v) for i, v in names.search(q)] for q in variants], n
            )
            trace.timings["name_ms"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        ranked = {
            name: [(cid, raw) for cid, raw in hits if cid in state.position_of]
            for name, hits in ranked.items()  # a vector whose row is gone: never surface it
        }
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
        if toks:
            for cid in order:
                pos = state.position_of[cid]
                signals[cid]["coverage"] = max(
                    state.bm25_text.coverage(vt, pos) for vt in variant_toks if vt
                )
        out = [
            ScoredChunk(
                chunk=state.chunks[state.position_of[cid]],
                score=fused[cid],
                ranks=ranks[cid],
                signals=signals[cid],
            )
            for cid in order
        ]
        for name, hits in ranked.items():
            if hits:
                trace.top[name] = hits[0][1]
        trace.ranked = ranked
        return out, trace


def _best(lists: list[list[tuple[str, float]]], n: int) -> list[tuple[str, float]]:
    """One ranking from several: each id's best value, best first, at most ``n``."""
    if len(lists) == 1:
        return lists[0][:n]
    best: dict[str, float] = {}
    for hits in lists:
        for cid, v in hits:
            if v > best.get(cid, float("-inf")):
                best[cid] = v
    return sorted(best.items(), key=lambda x: (-x[1], x[0]))[:n]


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
