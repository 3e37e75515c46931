"""``madoguchi towns``: the towns of a shared service (``add``, ``list``, ``show``, ``key``,
``export``, ``remove``, ``import``, ``ingest``).

The registry lives under the service's data directory (``<data_dir>/towns/<id>/``,
``ingest.towns``). The prefecture's staff run these, so every refusal says what is
wrong in Japanese first, in English after, and exits with code 2 having written nothing
(a bad id, an unknown or duplicate one, a TOML file that is not a town). A new admin
key is printed once: only its digest is kept.

``ingest``, ``ask``, ``sync``, ``sources``, ``synonyms`` and ``eval run`` take ``--town ID`` to work on
one town's index; ``towns ingest ID`` is ``ingest --town ID`` over the town's own
source list when no path is given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from madoguchi.ui.cli.options import ConfigOpt, PrivateOpt, SetOpt, err, out

if TYPE_CHECKING:
    from madoguchi.ingest.towns import TownRegistry
    from madoguchi.kit.config import Settings

towns_app = typer.Typer(
    help="The towns of a shared service: add, list, show, key, export, remove, import, ingest.",
    no_args_is_help=True,
)

IdArg = Annotated[str, typer.Argument(help="The town's id, e.g. minami.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]

#: the Japanese lead of each refusal, by the error's class (the first that matches)
_LEADS: tuple[tuple[str, str], ...] = (
    ("BadTownId", "町のIDが正しくありません"),
    ("TownNotFound", "その町は登録されていません"),
    ("TownExists", "そのIDの町はもう登録されています"),
    ("BadTownFile", "町の設定ファイルを読めません"),
    ("RemovalRefused", "削除できません。先に書き出してください (madoguchi towns export)"),
    ("InputError", "入力を確認してください"),
    ("ConfigError", "設定を確認してください"),
    ("KitError", "処理できませんでした"),
)


def register(app: typer.Typer) -> None:
    app.add_typer(towns_app, name="towns")


def lead_of(exc: BaseException) -> str:
    names = {c.__name__ for c in type(exc).__mro__}
    return next(ja for name, ja in _LEADS if name in names)


@contextmanager
def _refusals() -> Iterator[None]:
    """A ``KitError`` becomes two lines on stderr (Japanese, then English) and exit code 2."""
    from madoguchi.kit.errors import KitError

    try:
        yield
    except KitError as exc:
        err.print(f"[bold red]エラー:[/] {escape(lead_of(exc))}", highlight=False)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@towns_app.callback()
def _towns(ctx: typer.Context, config: ConfigOpt = None, set_: SetOpt = None) -> None:
    """The towns of a shared service: add, list, show, key, export, remove, import, ingest.

    町の登録・一覧・鍵の発行・書き出し・削除・取り込み。"""
    ctx.obj = {"config": config, "set": set_}


def _base(ctx: typer.Context) -> Settings:
    from madoguchi.kit.config import load_settings

    obj = ctx.obj or {}
    return load_settings(obj.get("set"), obj.get("config"))


def _registry(ctx: typer.Context) -> tuple[Settings, TownRegistry]:
    from madoguchi.ingest.towns import TownRegistry

    base = _base(ctx)
    return base, TownRegistry(base.data_dir)


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _print_key(town_id: str, key: str) -> None:
    out.print(
        f"管理キー (admin key of {town_id}; shown once, only its digest is kept):",
        highlight=False,
    )
    print(key)


@towns_app.command("add")
def towns_add(
    ctx: typer.Context,
    town_id: IdArg,
    name: Annotated[str | None, typer.Option("--name", help="The town's name, e.g. 南町.")] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help="A web origin whose pages embed the widget (repeatable)."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="A path or URL of the town's documents (repeatable)."),
    ] = None,
    from_toml: Annotated[
        Path | None,
        typer.Option(
            "--from-toml", help="A town.toml to start from (name, origins, answer, widget…)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a town and print its first admin key (once).

    町を登録し、最初の管理キーを一度だけ表示します。"""
    from madoguchi.ingest.towns import add_town, town_from_options

    with _refusals():
        _, reg = _registry(ctx)
        town = town_from_options(town_id, name, origin or (), source or (), from_toml)
        town, key = add_town(reg, town)
    if as_json:
        print(
            json.dumps({"town": town.id, "name": town.name, "admin_key": key}, ensure_ascii=False)
        )
        return
    out.print(f"町を登録しました (town added): {town.id} ({escape(town.name)})", highlight=False)
    out.print(f"  {reg.path(town.id)}", highlight=False)
    _print_key(town.id, key)


@towns_app.command("list")
def towns_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every town with its figures (sources, chunks, questions, refusals).

    登録された町と、その件数。"""
    from madoguchi.ingest.towns import town_figures
    from madoguchi.kit.errors import KitError

    broken: list[tuple[str, KitError]] = []
    figures = []
    with _refusals():
        base, reg = _registry(ctx)
        for tid in reg.ids():
            try:
                figures.append(town_figures(reg, reg.get(tid), base.store))
            except KitError as exc:  # one unreadable town.toml: the others are still listed
                broken.append((tid, exc))
    if as_json:
        print(json.dumps([f.to_json() for f in figures], ensure_ascii=False, indent=2))
        _say_broken(broken)
        return
    t = Table(title=f"{len(figures)} towns ({reg.dir})")
    for col in ("id", "name", "sources", "chunks", "questions", "refused", "keys", "exported"):
        t.add_column(col, justify="right" if col in ("sources", "chunks", "questions") else "left")
    for f in figures:
        t.add_row(
            f.id,
            escape(f.name),
            str(f.sources),
            str(f.chunks),
            str(f.questions),
            str(f.refused),
            str(f.admin_keys),
            _when(f.exported_at),
        )
    out.print(t)
    _say_broken(broken)


def _say_broken(broken: Sequence[tuple[str, Exception]]) -> None:
    for tid, exc in broken:
        err.print(f"[bold red]エラー:[/] {escape(lead_of(exc))} ({tid})", highlight=False)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    if broken:
        raise typer.Exit(2)


@towns_app.command("show")
def towns_show(ctx: typer.Context, town_id: IdArg, as_json: JsonOpt = False) -> None:
    """One town: its figures, origins, sources and settings (never its keys or secrets).

    町の件数と設定 (鍵は表示しません)。"""
    from madoguchi.ingest.towns import town_figures

    with _refusals():
        base, reg = _registry(ctx)
        town = reg.get(town_id)
        fig = town_figures(reg, town, base.store)
    data = town.model_dump(mode="json", exclude={"admin_keys", "line"})
    data["line"] = bool(town.line.channel_secret and town.line.channel_access_token)
    data.update(fig.to_json())
    data["folder"] = str(reg.path(town_id))
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{town.id}[/] {escape(town.name)}  {data['folder']}", highlight=False)
    for label, value in (
        ("sources / chunks", f"{fig.sources} / {fig.chunks}"),
        ("questions / refused", f"{fig.questions} / {fig.refused}"),
        ("admin keys", str(fig.admin_keys)),
        ("LINE channel", "yes" if data["line"] else "-"),
        ("origins", ", ".join(town.origins) or "- (same-origin only)"),
        ("source list", ", ".join(town.sources) or "-"),
        ("created", _when(town.created)),
        ("exported", f"{_when(town.exported_at)} {town.export_dest or ''}".rstrip()),
    ):
        out.print(f"  {label:<20} {escape(value)}", highlight=False)
    for table in ("answer", "widget", "limits"):
        given = getattr(town, table).model_dump(exclude_none=True)
        if given:
            out.print(
                f"  {table:<20} {escape(json.dumps(given, ensure_ascii=False))}", highlight=False
            )


@towns_app.command("key")
def towns_key(
    ctx: typer.Context,
    town_id: IdArg,
    replace: Annotated[
        bool, typer.Option("--replace", help="The town's other admin keys stop working.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A new admin key for the town, printed once (--replace: the old keys stop working).

    新しい管理キーを発行します (--replace で古い鍵は無効)。"""
    from madoguchi.ingest.towns import add_key

    with _refusals():
        _, reg = _registry(ctx)
        key = add_key(reg, town_id, replace=replace)
    if as_json:
        print(json.dumps({"town": town_id, "admin_key": key, "replaced": replace}))
        return
    if replace:
        out.print("古い管理キーは無効になりました (the old admin keys no longer work)")
    _print_key(town_id, key)


@towns_app.command("export")
def towns_export(
    ctx: typer.Context,
    town_id: IdArg,
    dest: Annotated[Path, typer.Argument(help="A new or empty folder.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Write what the town takes with it (sources list, FAQ drafts, masked log, settings).

    Also its synonyms and departments tables.

    町の資料一覧・FAQ案・会話ログ (マスク済み)・言い換え・設定を書き出します。"""
    from madoguchi.ingest.towns import export_town

    with _refusals():
        base, reg = _registry(ctx)
        report = export_town(base, reg, town_id, dest)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    out.print(f"書き出しました (exported) {town_id} → {dest}", highlight=False)
    for name, n in report.files.items():
        out.print(f"  {name:<22} {n:>7}", highlight=False)


@towns_app.command("remove")
def towns_remove(
    ctx: typer.Context,
    town_id: IdArg,
    force: Annotated[
        bool, typer.Option("--force", help="Remove even if not exported since its last change.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete the town: documents, vectors, log, settings, keys (after an export).

    Refused until the town has been exported after its last change, unless --force.

    町のデータをすべて削除します。最後の変更の後に書き出していなければ断ります。"""
    from madoguchi.ingest.towns import remove_town

    with _refusals():
        base, reg = _registry(ctx)
        report = remove_town(reg, town_id, force=force, store=base.store)
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    out.print(
        f"削除しました (removed) {town_id}: {report.sources} sources, {report.chunks} chunks, "
        f"{report.vectors} vectors, {report.turns} logged turns, {report.files} files "
        f"({report.bytes / 1_048_576:,.1f} MB); {report.left} left",
        highlight=False,
    )


@towns_app.command("import")
def towns_import(
    ctx: typer.Context,
    town_id: IdArg,
    from_dir: Annotated[
        Path,
        typer.Option(
            "--from", help="A single-town data directory (its catalogue.sqlite and chroma/)."
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="The town's name, when it is not registered.")
    ] = None,
    origin: Annotated[
        list[str] | None, typer.Option("--origin", help="Its widget origins (a new town).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bring a single-town data directory in as a town, without re-embedding.

    Index, vectors, conversation log, synonyms and departments are copied and checked. A
    town not yet registered is added (--name needed) and its admin key printed.

    既存の一町分のデータ (索引・ベクトル・会話ログ・言い換え) を、埋め込みをやり直さずに取り込みます。"""
    from madoguchi.ingest.embed import build_embedder
    from madoguchi.ingest.towns import add_town, import_town, remove_town, town_from_options

    key = None
    with _refusals():
        base, reg = _registry(ctx)
        if not from_dir.is_dir() or not (from_dir / "catalogue.sqlite").is_file():
            from madoguchi.kit.errors import InputError

            raise InputError(f"{from_dir}: not a data directory with an index (catalogue.sqlite)")
        created = not reg.exists(town_id)
        if created:
            town = town_from_options(town_id, name, origin or ())
            _, key = add_town(reg, town)
        try:
            report = import_town(base, reg, town_id, from_dir, build_embedder(base.embedder))
        except BaseException:
            if created:  # nothing half-written: the town added for the import goes too
                remove_town(reg, town_id, force=True)
            raise
    if as_json:
        data = report.to_json()
        if key:
            data["admin_key"] = key
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(
        f"取り込みました (imported) {from_dir} → {town_id}: {report.sources} sources, "
        f"{report.chunks} chunks, vectors {report.vectors}, {report.turns} logged turns, "
        f"synonyms {'yes' if report.synonyms else 'no'}; "
        f"{report.embedder_calls} embedding calls, {report.seconds:.1f}s",
        highlight=False,
    )
    if key:
        _print_key(town_id, key)


@towns_app.command("ingest")
def towns_ingest(
    ctx: typer.Context,
    town_id: IdArg,
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Files, folders or URLs (default: the town's source list)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    as_json: JsonOpt = False,
    allow_private_network: PrivateOpt = False,
) -> None:
    """Index the town's documents (by default those of its town.toml source list).

    The same as madoguchi ingest --town ID PATHS.

    町の資料を索引に入れます (既定: town.toml の sources)。"""
    from madoguchi.ui.cli.index import ingest_paths

    with _refusals():
        _, reg = _registry(ctx)
        town = reg.get(town_id)
        todo = list(paths or town.sources)
        if not todo:
            from madoguchi.kit.errors import InputError

            raise InputError(
                f"town {town_id!r} has no source list; give paths, or add sources to its town.toml"
            )
        obj = ctx.obj or {}
        ingest_paths(
            todo, dry_run, as_json, allow_private_network, obj.get("set"), town_id,
            obj.get("config"),
        )  # fmt: skip
