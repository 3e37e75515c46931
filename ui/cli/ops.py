"""Keeping a town's service running: ``backup``, ``restore``, ``doctor`` and ``schedule``.

Messages are Japanese first (town-hall staff run these), English in parentheses;
``--json`` prints the machine-readable report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from madoguchi.ui.cli.options import ConfigOpt, SetOpt, err, out

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


schedule_app = typer.Typer(
    help="Scheduled sync: run the [schedule] of town.toml, show its runs, write systemd units.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command()(doctor)
    app.add_typer(schedule_app, name="schedule")


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


SyncFileArg = Annotated[
    Path,
    typer.Argument(help="The town's sync file with a [schedule] table."),
]


def _run_line(run: Any) -> str:
    if run is None:
        return "なし (none)"
    r = run if isinstance(run, dict) else run.to_json()
    state = "成功 (ok)" if r["ok"] else "失敗 (failed)" if r["ok"] is False else "実行中 (running)"
    counts = r.get("report") or {}
    said = ", ".join(
        f"{k} {counts[k]}" for k in ("added", "updated", "removed", "skipped") if k in counts
    )
    extra = f" — {r['error']}" if r.get("error") else (f" ({said})" if said else "")
    secs = f", {r['seconds']:.1f} 秒" if r.get("seconds") is not None else ""
    return f"{r['slot']}: {state}{secs}{extra}"


@schedule_app.command("run")
def schedule_run(
    config: SyncFileArg = Path("town.toml"),
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Run the slots due now (within the catch-up window), then exit."
        ),
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="Run one sync at once, outside the timetable.")
    ] = False,
    as_json: JsonOpt = False,
    set_: SetOpt = None,
) -> None:
    """Run the town's scheduled sync: in the foreground until Ctrl-C, or with --once as a
    systemd timer or cron calls it. A slot another process ran (or runs) is not run again.
    --once and --now exit 1 when the run failed.

    定期更新を実行します。--once は今が実行時刻の分だけ実行して終わります (systemd タイマー用)。
    """
    from madoguchi.ingest.schedule import (
        Scheduler,
        ScheduleState,
        lazy_sync_job,
        load_schedule,
    )
    from madoguchi.kit.config import load_settings
    from madoguchi.ui.cli.options import town_services

    conf = load_schedule(config)
    settings = load_settings(set_)
    job = lazy_sync_job(lambda: town_services(set_), config, settings.web)
    scheduler = Scheduler(conf, ScheduleState(settings.data_dir), job, config_path=config)
    if now or once:
        if now:
            runs = [r for r in [scheduler.run_now()] if r is not None]
        else:
            before = scheduler.state.runs(scheduler.name, limit=1)
            last_id = before[0].id if before else 0
            nxt = scheduler.tick()
            runs = [
                r
                for r in scheduler.state.runs(scheduler.name, limit=20)
                if r.id > last_id and r.holder == scheduler.holder
            ]
        if as_json:
            print(json.dumps([r.to_json() for r in runs], ensure_ascii=False, indent=2))
        else:
            if not runs:
                out.print(
                    "実行するものはありません (nothing due, or another process ran it)"
                    + ("" if now else f"; 次回 (next): {nxt.isoformat(timespec='minutes')}"),
                    highlight=False,
                )
            for r in runs:
                out.print(f"定期更新 (scheduled sync) {_run_line(r)}", highlight=False)
        if any(r.ok is False for r in runs):
            raise typer.Exit(1)
        return
    out.print(
        f"定期更新を開始します (scheduled sync): {conf.schedule.spec} ({conf.schedule.tz}),"
        f" {config}; Ctrl-C で止まります",
        highlight=False,
    )
    scheduler.run_forever()


@schedule_app.command("status")
def schedule_status(
    as_json: JsonOpt = False,
    set_: SetOpt = None,
) -> None:
    """The scheduled sync's timetable, last runs and failure count.

    定期更新の予定・直近の実行・失敗回数を表示します。
    """
    from madoguchi.ingest.schedule import JOB, existing_state
    from madoguchi.kit.config import load_settings

    settings = load_settings(set_)
    state = existing_state(settings.data_dir)
    status = state.status(JOB) if state else None
    if as_json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return
    if status is None:
        out.print(
            f"{settings.data_dir}: 定期更新はまだ一度も動いていません (no scheduled sync yet)",
            highlight=False,
        )
        return
    out.print(
        f"予定 (schedule): {status['schedule']} ({status['timezone']}), {status['config']}\n"
        f"次回 (next): {status['next_run'] or '?'}\n"
        f"最後の成功 (last success): {status['last_success'] or 'なし (none)'}\n"
        f"実行 {status['runs_total']} 回, 失敗 {status['failures_total']} 回 (runs, failures)",
        highlight=False,
    )
    if status["running"]:
        out.print(f"実行中 (running): {status['running']['holder']}", highlight=False)
    for r in status["recent"]:
        out.print(f"  {_run_line(r)}", highlight=False)


@schedule_app.command("systemd")
def schedule_systemd(
    config: SyncFileArg = Path("town.toml"),
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the .service and .timer files to.")
    ] = Path("."),
    user: Annotated[str | None, typer.Option(help="The user the sync runs as (User=).")] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(help="A file of MADOGUCHI_* settings the service reads (EnvironmentFile=)."),
    ] = None,
    set_: SetOpt = None,
) -> None:
    """Write madoguchi-sync.service and madoguchi-sync.timer for the [schedule] of CONFIG.

    Run it in the folder you run 'madoguchi sync' from: that becomes WorkingDirectory.
    systemd のサービスとタイマーを書き出します (インストール手順はファイルの先頭に)。
    """
    from madoguchi.ingest.schedule import load_schedule, systemd_units
    from madoguchi.kit.config import load_settings

    conf = load_schedule(config)
    settings = load_settings(set_)
    units = systemd_units(config, conf, data_dir=settings.data_dir, user=user, env_file=env_file)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in units.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        out.print(f"書きました (wrote): {out_dir / name}", highlight=False)
    out.print(
        f"sudo cp {' '.join(str(out_dir / n) for n in units)} /etc/systemd/system/ && "
        "sudo systemctl daemon-reload && sudo systemctl enable --now madoguchi-sync.timer",
        highlight=False,
        soft_wrap=True,
    )
