"""The admin screen's 利用状況 (usage) tab: a month's figures and plots, and the
unanswered question groups with the three actions of the improvement loop.

Kept apart from ``ui/admin.py`` (which only calls ``usage_tab``) so the two change
independently. As there, ``UsageActions`` does the work in plain Python (tested
directly) and the Gradio layer only wires widgets to it. The figures are
``kit.usage``'s, the plots and tables ``kit.usagereport``'s (the monthly report's own),
the actions ``kit.improvements``': a FAQ entry written from a group is appended to the
FAQ file chosen (by default ``faq_added.csv`` in the upload folder, which the documents
tab lists and re-syncs) and indexed at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madoguchi.kit.errors import InputError
from madoguchi.kit.improvements import (
    FAQ_FILENAME,
    FaqEntry,
    Improvements,
    ImprovementStore,
)
from madoguchi.kit.usage import Period, UnansweredGroup, load_turns, stats
from madoguchi.kit.usagereport import (
    LANG_NAMES,
    build_report,
    effects_html,
    kpi_html,
    plots_html,
    render_html,
)

if TYPE_CHECKING:
    from madoguchi.ingest.services import TownServices
    from madoguchi.kit.config import Settings
    from madoguchi.kit.convlog import ConversationLog
    from madoguchi.ui.admin import AdminActions

GROUP_COLUMNS = ["ID", "質問（最も多い言い方）", "未回答", "質問数", "未回答の割合", "言語",
                 "ほかの言い方", "対応"]  # fmt: skip
# the report's look for its cards and tables, kept inside the tab
SCOPED_CSS = (
    ".madoguchi-usage .kpis{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}"
    ".madoguchi-usage .kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;"
    "min-width:130px}.madoguchi-usage .kpi b{display:block;font-size:22px}"
    ".madoguchi-usage .kpi span{color:#57606a;font-size:13px;display:block}"
    ".madoguchi-usage svg{max-width:100%;height:auto}"
    ".madoguchi-usage table{border-collapse:collapse}.madoguchi-usage td,"
    ".madoguchi-usage th{border:1px solid #d0d7de;padding:4px 8px}"
    ".madoguchi-usage .good{color:#1a7f37}.madoguchi-usage .bad{color:#cf222e}"
)
DONE_LABELS = {"faq": "FAQ 追加済み", "synonym": "言い換え追加済み", "out_of_scope": "対象外"}


class UsageActions:
    """What the tab does, with the screen's services, log and upload folder."""

    def __init__(
        self,
        services: Callable[[], TownServices],
        log: Callable[[], ConversationLog | None],
        settings: Settings,
        upload_dir: Path,
        export_dir: Callable[[], Path] | None = None,
        source_id: Callable[[Path], str] = lambda p: p.as_posix(),
    ) -> None:
        self._services = services
        self._log = log
        self.settings = settings
        self.upload_dir = upload_dir
        self._export_dir = export_dir
        self.store = ImprovementStore.in_data_dir(settings.data_dir)
        self.source_id = source_id

    @classmethod
    def of(cls, admin: AdminActions) -> UsageActions:
        from madoguchi.ui.admin import _source_arg, gradio_temp_dir

        def export_dir() -> Path:
            return admin.incoming_dir or gradio_temp_dir()

        return cls(
            admin._services,
            admin._log,
            admin.settings,
            admin.upload_dir,
            export_dir=export_dir,
            source_id=_source_arg,
        )

    def _need_log(self) -> ConversationLog:
        log = self._log()
        if log is None:
            raise InputError("会話ログは無効です (server.log_conversations = false)")
        return log

    def improvements(self) -> Improvements:
        svc = self._services()
        return Improvements(
            self.store,
            ingester=svc,
            synonyms=svc.synonyms,
            faq_path=self.upload_dir / FAQ_FILENAME,
            source_id=self.source_id,
            town_name=self.settings.widget.town,
        )

    # ------------------------------------------------------------ the month

    def months(self) -> list[str]:
        """The months the log holds, newest first (this month when it is empty)."""
        log = self._log()
        now = datetime.now(UTC).timestamp()
        if log is None or not log.count():
            return [Period.containing(now, "month").label]
        newest = log.turns(limit=1)[0].ts
        oldest = log.turns(limit=1, offset=log.count() - 1)[0].ts
        p = Period.containing(max(newest, now), "month")
        out = [p.label]
        while p.start_ts > oldest:
            p = p.previous()
            out.append(p.label)
        return out

    def latest_month(self) -> str:
        log = self._log()
        if log is None or not log.count():
            return self.months()[0]
        return Period.containing(log.turns(limit=1)[0].ts, "month").label

    def overview(self, month: str) -> tuple[str, list[list[Any]]]:
        """The month's figures and plots (HTML), and its unanswered groups (rows)."""
        period = Period.month(month)
        report = build_report(
            self._need_log(), period, improvements=self.improvements(), unanswered=200
        )
        s = report.month
        head = (
            f"<h3>{period.label_ja}の利用状況</h3>"
            + kpi_html(s, report.previous)
            + plots_html(report.days, s)
            + "<h3>改善の効果</h3>"
            + effects_html(report)
        )
        done = self.store.done_keys()
        rows = [
            [
                g.key,
                g.leader,
                g.count,
                g.asked,
                f"{100 * g.share:.0f}%",
                "、".join(LANG_NAMES.get(k, k) for k, _ in g.langs.most_common()),
                " / ".join(q for q, _ in g.questions[1:6]),
                DONE_LABELS.get(done.get(g.key, ""), ""),
            ]
            for g in s.unanswered
        ]
        return f'<div class="madoguchi-usage"><style>{SCOPED_CSS}</style>{head}</div>', rows

    def group(self, month: str, key: str) -> UnansweredGroup:
        key = (key or "").strip()
        if not key:
            raise InputError("一覧から質問のグループを選んでください")
        period = Period.month(month)
        log = self._need_log()
        turns = load_turns(log, period.start_ts, period.end_ts)
        s = stats(turns, period, groups=None, out_of_scope=self.store.out_of_scope())
        for g in s.unanswered:
            if g.key == key:
                return g
        raise InputError(f"{month} にこのグループ ({key}) はありません")

    def pick(self, month: str, key: str) -> tuple[str, str, str]:
        """(key, the question to start the FAQ entry from, words for a synonym group)."""
        g = self.group(month, key)
        words = ""
        try:
            from madoguchi.kit.synonyms import suggest

            svc = self._services()
            found = suggest(
                g.questions, svc.index.view(), svc.embedder, svc.synonyms.current(), limit=1
            )
            if found:
                words = found[0].word + (f", {found[0].nearest[0]}" if found[0].nearest else "")
        except Exception:  # a suggestion is a convenience: the form works without it
            words = ""
        return g.key, g.leader, words

    def faq_targets(self) -> list[str]:
        """Where a new entry may go: the upload folder's file of entries written from the
        log, then the FAQ files the index was built from."""
        from madoguchi.ingest.translate import indexed_faq_files

        default = str(self.upload_dir / FAQ_FILENAME)
        try:
            files = [str(p) for p in indexed_faq_files(self._services().index)[0]]
        except Exception:  # no index yet
            files = []
        return list(dict.fromkeys([default, *files]))

    # ------------------------------------------------------------ the three actions

    def add_faq(
        self,
        month: str,
        key: str,
        question: str,
        answer: str,
        department: str,
        phone: str,
        url: str = "",
        target: str = "",
    ) -> str:
        g = self.group(month, key)
        allowed = self.faq_targets()
        target = (target or "").strip() or allowed[0]
        if target not in allowed:
            raise InputError(f"{target} は書き出し先にできません")
        a = self.improvements().add_faq(
            g, FaqEntry(question, answer, department, phone, url), month, faq_file=Path(target)
        )
        return (
            f"FAQ を追加しました: `{a.detail['source']}`。索引に入れたので、次の質問から回答します"
            f"（{Path(target).name} にオープンデータの形式で書き出しました）。"
        )

    def add_synonym(self, month: str, key: str, words: str) -> str:
        g = self.group(month, key)
        parts = [w.strip() for w in words.replace("、", ",").split(",") if w.strip()]
        syn = self.improvements().add_synonym(g, parts, month)
        return f"言い換えを追加しました: {', '.join(parts)}（{len(syn)} グループ、次の質問から使います）。"

    def out_of_scope(self, month: str, key: str, note: str = "") -> str:
        g = self.group(month, key)
        self.improvements().mark_out_of_scope(g, month, note)
        return f"「{g.leader}」のグループを対象外にしました。次から未回答の一覧に出ません。"

    def export_report(self, month: str) -> str:
        """The month's report page as a file to download (in the screen's temp folder)."""
        period = Period.month(month)
        report = build_report(
            self._need_log(),
            period,
            improvements=self.improvements(),
            town=self.settings.widget.town,
        )
        base = self._export_dir() if self._export_dir else Path(tempfile.gettempdir())
        folder = Path(tempfile.mkdtemp(prefix="report-", dir=base))
        path = folder / f"usage-{period.label}.html"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(render_html(report))
        return str(path)


def usage_tab(admin: AdminActions, blocks: Any) -> UsageActions:
    """Build the 利用状況 tab inside ``blocks`` and refresh it when the screen opens."""
    import gradio as gr

    from madoguchi.ui.admin import _guard

    actions = UsageActions.of(admin)

    @_guard
    def do_show(month: str) -> tuple[str, Any]:
        return actions.overview(month)

    @_guard
    def do_open() -> tuple[Any, str, Any, Any]:
        months = actions.months()
        month = actions.latest_month()
        html, rows = actions.overview(month)
        targets = actions.faq_targets()
        return (
            gr.update(choices=months, value=month),
            html,
            rows,
            gr.update(choices=targets, value=targets[0]),
        )

    @_guard
    def do_pick_key(month: str, key: str) -> tuple[str, str, str]:
        return actions.pick(month, key)

    def do_pick(month: str, evt: Any) -> tuple[str, str, str]:
        row = getattr(evt, "row_value", None) or [""]
        return do_pick_key(month, str(row[0]))

    do_pick.__annotations__["evt"] = gr.SelectData  # as in ui/admin.py's tabs

    def then_refresh(fn: Callable[..., str]) -> Callable[..., tuple[str, str, Any]]:
        @_guard
        def run(month: str, *args: Any) -> tuple[str, str, Any]:
            msg = fn(month, *args)
            html, rows = actions.overview(month)
            return msg, html, rows

        return run

    @_guard
    def do_export(month: str) -> str:
        return actions.export_report(month)

    with gr.Tab("利用状況"):
        gr.Markdown(
            "会話ログから、月ごとの質問数・回答できた割合・言語・よく聞かれた話題を表示します。"
            "質問は個人情報を伏せて記録・表示しています。下の一覧は回答できなかった質問"
            "（👎 を含む）を似たものごとにまとめたものです。行を選び、FAQ を書く・言い換えを"
            "足す・対象外にする、のどれかで対応してください。"
        )
        with gr.Row():
            month = gr.Dropdown(
                [actions.months()[0]], value=None, label="月", scale=2,
                allow_custom_value=True,
            )  # fmt: skip
            show_btn = gr.Button("表示", scale=1)
            export_btn = gr.Button("月次レポートを書き出す", scale=1)
        report_file = gr.File(label="月次レポート (HTML)", interactive=False)
        overview = gr.HTML()
        groups = gr.Dataframe(
            headers=GROUP_COLUMNS,
            label="回答できなかった質問（似た質問ごと。行を選ぶと下で対応できます）",
            interactive=False,
            wrap=True,
            max_height=420,
            column_widths=["11%", "27%", "6%", "6%", "7%", "10%", "23%", "10%"],
        )
        key = gr.Textbox(label="選んだグループ", interactive=False)
        with gr.Tab("FAQ を書く"):
            question = gr.Textbox(label="質問")
            answer = gr.Textbox(label="回答", lines=5)
            with gr.Row():
                department = gr.Textbox(label="所管部署")
                phone = gr.Textbox(label="電話番号")
                url = gr.Textbox(label="URL")
            target = gr.Dropdown(
                [],
                label="書き出し先の FAQ ファイル",
                allow_custom_value=False,
            )
            faq_btn = gr.Button("FAQ に追加して索引に入れる", variant="primary")
        with gr.Tab("言い換えを足す"):
            words = gr.Textbox(label="同じ意味の語をカンマ区切りで")
            syn_btn = gr.Button("言い換え辞書に追加", variant="primary")
        with gr.Tab("対象外にする"):
            note = gr.Textbox(label="理由")
            oos_btn = gr.Button("対象外にする", variant="stop")
        result = gr.Markdown()

        show_btn.click(do_show, [month], [overview, groups])
        month.input(do_show, [month], [overview, groups])  # chosen by staff, not on load
        groups.select(do_pick, [month], [key, question, words])
        export_btn.click(do_export, [month], [report_file])
        faq_btn.click(
            then_refresh(actions.add_faq),
            [month, key, question, answer, department, phone, url, target],
            [result, overview, groups],
        )
        syn_btn.click(then_refresh(actions.add_synonym), [month, key, words],
                      [result, overview, groups])  # fmt: skip
        oos_btn.click(then_refresh(actions.out_of_scope), [month, key, note],
                      [result, overview, groups])  # fmt: skip
        blocks.load(do_open, None, [month, overview, groups, target])
    return actions
