"""The staff screen's inbox tab: residents' messages to staff (``kit.handoff``).

Staff see the open messages oldest first, pick one, give it to another department,
reply (the resident's widget shows the reply in their conversation), and turn an
answered one into an FAQ draft (``<data_dir>/faq_drafts.csv``, the FAQ CSV's columns),
to review and add to the town's FAQ.

``InboxActions`` does the work (plain Python, tested directly); ``inbox_tab(actions)``
lays out the Gradio tab for the screen's ``AdminActions`` (anything with ``settings``
and, optionally, ``clock``), so ``ui.admin.build_admin`` calls it with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from madoguchi.kit.config import Settings
from madoguchi.kit.errors import InputError
from madoguchi.kit.handoff import HandoffInbox, Message
from madoguchi.kit.officehours import Clock, system_clock
from madoguchi.ui.api.handoff import delivery_note, inbox_for, make_draft

#: sends a LINE ticket's reply (``ui.api.handoff.deliver_reply`` bound to the app)
Deliver = Callable[[HandoffInbox, str], None]

INBOX_COLUMNS = ["受付番号", "受付日時", "担当", "状態",
                 "内容", "連絡先", "返信", "FAQ案"]  # fmt: skip
INBOX_FILTERS: dict[str, str | None] = {
    "未回答": "open",
    "回答済み": "answered",
    "すべて": None,
}
STATUS_LABELS = {"open": "未回答", "answered": "回答済み"}


class InboxActions:
    """The inbox of the screen's town, read and written through ``kit.handoff``."""

    def __init__(
        self, settings: Settings, clock: Clock | None = None, deliver: Deliver | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or system_clock
        self.deliver = deliver

    def _inbox(self) -> Any:
        return inbox_for(self.settings, self.clock)

    def _when(self, ts: float | None) -> str:
        if ts is None:
            return ""
        return datetime.fromtimestamp(ts, self.clock().tzinfo).strftime("%Y-%m-%d %H:%M")

    def rows(self, which: str = "未回答") -> list[list[Any]]:
        status = INBOX_FILTERS.get(which, "open")
        return [
            [
                m.id,
                self._when(m.ts),
                m.department or "",
                STATUS_LABELS.get(m.status, m.status),
                m.question,
                (m.contact or "") + ("" if m.consent or not m.contact else "（同意なし: 伏せ字）"),
                (m.reply or "") + (f"\n[{note}]" if (note := delivery_note(m)) else ""),
                "済" if m.faq_draft else "",
            ]
            for m in self._inbox().messages(status, limit=500)
        ]

    def summary(self) -> str:
        s = self._inbox().stats()
        wait = s["answer_seconds_median"]
        text = f"未回答 {s['open']:.0f} 件 / 回答済み {s['answered']:.0f} 件"
        if s["answered"]:
            took = f"{wait / 3600:.1f} 時間" if wait >= 3600 else f"{wait / 60:.0f} 分"
            text += f"（返信までの時間の中央値 {took}）"
        days = self.settings.handoff.retention_days
        return text + f"。メッセージは {days} 日後に削除されます。"

    def message(self, ticket: str) -> Message:
        msg = self._inbox().get(ticket.strip())
        if msg is None:
            raise InputError("メッセージを一覧から選んでください")
        return msg

    def pick(self, ticket: str) -> tuple[str, str, str, str]:
        """The message's id, its text (and contact), department and reply, for editing."""
        m = self.message(ticket)
        shown = m.question
        if m.contact:
            shown += f"\n\n連絡先: {m.contact}" + ("" if m.consent else "（同意なし: 伏せ字）")
        return m.id, shown, m.department or "", m.reply or ""

    def assign(self, ticket: str, department: str) -> str:
        m = self._inbox().assign(self.message(ticket).id, department)
        return f"受付番号 {m.id} の担当を {m.department} にしました。"

    def reply(self, ticket: str, text: str) -> str:
        inbox = self._inbox()
        m = inbox.reply(self.message(ticket).id, text)
        if not m.reply_channel:
            return f"受付番号 {m.id} に返信しました。住民の画面に表示されます。"
        return self._send(inbox, m.id, f"受付番号 {m.id} に返信しました。")

    def resend(self, ticket: str) -> str:
        """Push a LINE message's reply again (after a failed push)."""
        m = self.message(ticket)
        if not m.reply_channel or not m.reply:
            raise InputError("LINE に送る返信がありません (no reply to send to LINE)")
        return self._send(self._inbox(), m.id, f"受付番号 {m.id} の返信を")

    def _send(self, inbox: HandoffInbox, ticket: str, done: str) -> str:
        if self.deliver is not None:
            self.deliver(inbox, ticket)
        m = inbox.get(ticket)
        if m is None:
            raise InputError("メッセージを一覧から選んでください (pick a message)")
        if m.delivery == "sent":
            return done + "LINE で住民に送りました。"
        if m.delivery == "pending":
            return done + "LINE へ送信中です。しばらくして一覧で確かめてください。"
        return (
            done + "**LINEへの送信に失敗しました。** 返信は保存されています。"
            "「LINE に再送」で、もう一度送れます。"
        )

    def faq_draft(self, ticket: str, answer: str = "") -> str:
        m = self.message(ticket)
        draft = make_draft(self.settings, self._inbox(), m.id, None, answer or None)
        return (
            f"FAQ 案 {draft['id']} を {draft['file']} に書きました"
            f"（質問: {draft['question']}）。確認してから FAQ に加えてください。"
        )


def inbox_tab(actions: Any) -> None:
    """The 問い合わせ (inbox) tab, for a screen whose ``actions`` has ``settings``
    (and optionally ``clock``); refreshed when the tab is opened."""
    import gradio as gr

    from madoguchi.ui.admin import _guard

    inbox = InboxActions(
        actions.settings, getattr(actions, "clock", None), getattr(actions, "deliver_reply", None)
    )

    @_guard
    def do_list(which: str) -> tuple[str, Any]:
        return inbox.summary(), inbox.rows(which)

    @_guard
    def pick(ticket: str) -> tuple[str, str, str, str]:
        return inbox.pick(ticket)

    def do_pick(evt: Any) -> tuple[str, str, str, str]:
        row = getattr(evt, "row_value", None) or [""]
        return pick(str(row[0]))

    do_pick.__annotations__["evt"] = gr.SelectData  # as pick_source in the documents tab

    def then_list(fn: Callable[..., str]) -> Callable[..., tuple[str, str, Any]]:
        @_guard
        def run(*args: Any) -> tuple[str, str, Any]:
            *given, which = args
            done = fn(*given)
            return done, inbox.summary(), inbox.rows(which)

        return run

    days = actions.settings.handoff.retention_days
    with gr.Tab("問い合わせ") as tab:
        gr.Markdown(
            "AI が答えられなかった質問について、住民が職員に送ったメッセージです。"
            "返信すると、住民のウィジェットの会話に表示されます。連絡先とメッセージは、"
            "住民が保存に同意したときだけ書かれたとおりに保存され、同意がないときは個人情報を"
            f"伏せて保存されます。{days} 日たつと削除されます。"
        )
        with gr.Row():
            which = gr.Radio(list(INBOX_FILTERS), value="未回答", label="表示", scale=3)
            list_btn = gr.Button("表示", scale=1)
        summary = gr.Markdown()
        table = gr.Dataframe(
            headers=INBOX_COLUMNS,
            label="メッセージ（行を選ぶと下で返信できます）",
            interactive=False,
            wrap=True,
            max_height=420,
        )
        ticket = gr.Textbox(label="受付番号", interactive=False)
        message = gr.Textbox(label="メッセージ", interactive=False, lines=4)
        with gr.Row():
            department = gr.Textbox(label="担当部署", scale=3)
            assign_btn = gr.Button("担当を変更", scale=1)
        reply = gr.Textbox(label="返信", lines=5)
        with gr.Row():
            reply_btn = gr.Button("返信する", variant="primary")
            draft_btn = gr.Button("FAQ 案にする")
            resend_btn = gr.Button("LINE に再送")
        result = gr.Markdown()
        list_btn.click(do_list, [which], [summary, table])
        which.change(do_list, [which], [summary, table])
        tab.select(do_list, [which], [summary, table])
        table.select(do_pick, None, [ticket, message, department, reply])
        outputs = [result, summary, table]
        assign_btn.click(then_list(inbox.assign), [ticket, department, which], outputs)
        reply_btn.click(then_list(inbox.reply), [ticket, reply, which], outputs)
        draft_btn.click(then_list(inbox.faq_draft), [ticket, reply, which], outputs)
        resend_btn.click(then_list(inbox.resend), [ticket, which], outputs)
