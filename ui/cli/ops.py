"""Keeping a town's service running: ``backup``, ``restore``, ``doctor`` and ``schedule``.

Messages are Japanese first (town-hall staff run these), English in parentheses;
``--json`` prints the machine-readable report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from madoguchi.ui.cli.options import ConfigOpt, SetOpt, err, out

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command()(doctor)


def _mib(n: int) -> str:
    return f"{n / 1_048_576:,.1f} MB"


def backup(
    dest: Annotated[
        Path,
        typer.Argument(
            help="A new folder, or a file name ending in .tar.gz, to write the backup to."
        ),
    ],
    sync_config: Annotated[
        Path | None,
        typer.Option("--sync-config", help="The town's sync file (town.toml) to keep with it."),
    ] = None,
    uploads: Annotated[
        bool,
        typer.Option(
            "--uploads/--no-uploads", help="Also keep the documents uploaded on the admin screen."
        ),
    ] = True,
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for a running ingest or sync to let go of the index."),
    ] = 1800.0,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Back up the data directory while the server runs (index, log, settings, synonyms).

    バックアップ: 索引・会話ログ・設定・言い換え・担当課の表を、サービスを止めずに写します。
    """
    import os

    from madoguchi.ingest.backup import backup as run_backup
    from madoguchi.kit.config import load_settings

    settings = load_settings(set_, config)
    settings_file = config or (
        Path(os.environ["MADOGUCHI_CONFIG"]) if os.environ.get("MADOGUCHI_CONFIG") else None
    )

    def say(msg: str) -> None:
        if not as_json:
            err.print(msg, highlight=False)

    m = run_backup(
        settings,
        dest,
        settings_file=settings_file,
        sync_file=sync_config,
        uploads=uploads,
        lock_timeout=wait,
        progress=say,
    )
    if as_json:
        print(json.dumps(m.to_json(), ensure_ascii=False, indent=2))
        return
    out.print(
        f"バックアップしました (backed up): {dest}\n"
        f"  ファイル {len(m.files)} 件, {_mib(m.total_bytes)}, {m.seconds:.1f} 秒\n"
        f"  資料 {m.sources} 件, チャンク {m.chunks} 件, 索引の世代 (generation) {m.generation}, "
        f"会話ログ {m.log_rows if m.log_rows is not None else 0} 件",
        highlight=False,
    )
    for w in m.warnings:
        out.print(f"[yellow]注意 (warning):[/] {w}", highlight=False)
    out.print(
        f"戻すとき (to restore): madoguchi restore {dest} --data-dir 新しいフォルダ",
        highlight=False,
    )


def restore(
    src: Annotated[
        Path, typer.Argument(help="A backup folder or .tar.gz file made by 'madoguchi backup'.")
    ],
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The data directory to restore into (new or empty).")
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore even if --data-dir is not empty (the old folder is renamed, not deleted).",
        ),
    ] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Restore a backup into a data directory, checking every file's checksum.

    復元: バックアップのチェックサムを確かめてから、新しいデータフォルダに戻します。
    """
    from madoguchi.ingest.backup import restore as run_restore
    from madoguchi.kit.config import load_settings

    settings = load_settings(set_, config)
    r = run_restore(src, data_dir, force=force, settings=settings)
    if as_json:
        print(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
    else:
        m = r.manifest
        out.print(
            f"復元しました (restored): {r.data_dir}\n"
            f"  {m.created_at} のバックアップ, ファイル {r.files} 件, {_mib(r.bytes)}\n"
            f"  チャンク {r.chunks} 件, 索引の世代 {r.generation}, 会話ログ {r.log_rows or 0} 件",
            highlight=False,
        )
        if r.moved_aside:
            out.print(
                f"  元のフォルダは {r.moved_aside} に移しました (moved aside)", highlight=False
            )
        if r.config_dir:
            out.print(
                f"  設定ファイルは {r.config_dir} にあります: MADOGUCHI_CONFIG={r.config_dir}/settings.toml",
                highlight=False,
            )
        for note in r.notes:
            out.print(f"  {note}", highlight=False)
        out.print(
            f"使うとき (to use it): MADOGUCHI_DATA_DIR={r.data_dir} madoguchi serve",
            highlight=False,
        )
    if not r.consistent:
        raise typer.Exit(1)


_STYLE = {"ok": "green", "warning": "yellow", "error": "bold red"}


def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair", help="Embed the vectors the index is missing and drop orphans first."
        ),
    ] = False,
    model: Annotated[
        bool,
        typer.Option("--model/--no-model", help="Load the embedding model (a few seconds)."),
    ] = True,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Check the service: settings, disk space, the index, the model, the log, the
    scheduled sync and the last backup. Exit code 1 when a check finds an error.

    診断: 設定・ディスクの空き・索引の整合性・埋め込みモデル・会話ログ・定期更新・
    バックアップを確かめ、それぞれ OK / 警告 / エラー と対処を表示します。
    """
    from rich.markup import escape

    from madoguchi.ingest.doctor import Diagnosis, diagnose, settings_error
    from madoguchi.kit.config import load_settings
    from madoguchi.kit.errors import ConfigError

    try:
        settings = load_settings(set_, config)
    except ConfigError as exc:
        result = Diagnosis([settings_error(exc)])
    else:
        result = diagnose(settings, embedder=model, fix=repair)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        raise typer.Exit(result.exit_code)
    if result.repaired is not None:
        out.print(
            f"修復しました (repaired): ベクトル {result.repaired.get('missing_embedded', 0)} 件を"
            f"埋め込み, {result.repaired.get('orphans_removed', 0)} 件を削除",
            highlight=False,
        )
    for c in result.checks:
        out.print(
            f"[{_STYLE[c.status]}]{c.label:>4}[/] {escape(c.title)}: {escape(c.detail)}",
            highlight=False,
            soft_wrap=True,
        )
        if c.fix:
            out.print(f"      → {escape(c.fix)}", highlight=False, soft_wrap=True)
    summary = {
        "ok": "問題ありません (all good)",
        "warning": "警告があります (warnings)",
        "error": "エラーがあります (errors found)",
    }[result.worst]
    out.print(f"[{_STYLE[result.worst]}]{summary}[/]", highlight=False)
    raise typer.Exit(result.exit_code)
