"""Hybrid retrieval: dense (multilingual embeddings) + BM25 (Sudachi), fused by
weighted reciprocal rank fusion.

Signals, each ranking all chunks independently:
- ``dense``: cosine similarity of the query and chunk embeddings; the only
  signal that crosses languages (an English question finds a Japanese answer);
- ``bm25``: BM25 over Sudachi normalized forms of the chunk text;
- ``title``: dense similarity of the query and the title field alone (FAQ
  question, section heading): query-to-question similarity is the strongest
  evidence in FAQ retrieval, and short titles cross languages better than
  long answers;
- ``question``: BM25 over the chunk's title field alone — the FAQ *question*,
  or a page section's heading — so a resident's phrasing that matches an
  official question or heading outranks a long text that merely mentions the
  same words.

RRF uses ranks, not raw scores, so the signals need no common scale; raw
values stay on each hit (``signals``) for the answerer's confidence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ingest.index import Index
from kit.config import RetrievalSettings
from kit.lexical import tokenize
from kit.types import ScoredChunk


@dataclass
class RetrievalTrace:
    timings: dict[str, float] = field(default_factory=dict)
    query_tokens: list[str] = field(default_factory=list)
    # the best raw value of each signal over all chunks
    top: dict[str, float] = field(default_factory=dict)
    # each signal's own ranking (chunk id, raw score), before fusion
    ranked: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


class HybridRetriever:
    def __init__(self, index: Index, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings

    def warm_up(self) -> None:
        """Load everything the first real question would: catalogue state, tokenizer,
        model, and the vector indexes (Chroma reads its HNSW files on first query)."""
        self.search("ウォームアップ", 1)

    def retrieve(self, query: str, k: int | None = None) -> list[ScoredChunk]:
        return self.search(query, k)[0]

    def search(self, query: str, k: int | None = None) -> tuple[list[ScoredChunk], RetrievalTrace]:
        s = self.settings
        k = k or s.k
        trace = RetrievalTrace()
        state = self.index.search_state()
        if not state.chunks:
            return [], trace
        n = max(s.candidates, k)
        ranked: dict[str, list[tuple[str, float]]] = {}

        if s.mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qvec = self.index.embedder.embed_query(query)
            trace.timings["embed_ms"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            ranked["dense"] = self.index.vectors.query(qvec, n)
            # title vectors are shared by chunks with the same title: fan them out
            ranked["title"] = [
                (state.chunks[pos].id, sim)
                for tid, sim in self.index.title_vectors.query(qvec, n)
                for pos in state.by_title.get(tid, ())
            ][: n * 2]
            trace.timings["dense_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        toks = tokenize(query)  # also needed for coverage, whatever the mode
        trace.query_tokens = toks
        if s.mode in ("hybrid", "bm25"):
            ranked["bm25"] = [(state.chunks[i].id, sc) for i, sc in state.bm25_text.search(toks, n)]
            ranked["question"] = [
                (state.chunks[i].id, sc) for i, sc in state.bm25_question.search(toks, n)
            ]
            trace.timings["bm25_ms"] = (time.perf_counter() - t) * 1000

        weights = {
            "dense": s.dense_weight,
            "bm25": s.bm25_weight,
            "question": s.question_weight,
            "title": s.title_weight,
        }
        fused: dict[str, float] = {}
        ranks: dict[str, dict[str, int]] = {}
        signals: dict[str, dict[str, float]] = {}
        for name, hits in ranked.items():
            w = weights[name]
            for rank, (cid, raw) in enumerate(hits, start=1):
                if cid not in state.position_of:
                    continue  # a vector whose row is gone: never surface it
                fused[cid] = fused.get(cid, 0.0) + w / (s.rrf_k + rank)
                ranks.setdefault(cid, {})[name] = rank
                signals.setdefault(cid, {})[name] = raw
        order = sorted(fused, key=lambda c: (-fused[c], c))[:k]
        if toks:
            for cid in order:
                signals[cid]["coverage"] = state.bm25_text.coverage(toks, state.position_of[cid])
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
