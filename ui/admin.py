"""The staff screen (Gradio), mounted on the API app at ``/admin`` behind the admin key.

Five tabs: documents (upload + ingest with progress, re-sync, list and remove
sources), try a question (answer plus the retrieved passages and their
scores), the town's synonym list (kit.synonyms) with words of unanswered
questions that no document uses, the FAQ's machine translations (approve, edit
or reject what ``madoguchi translate`` wrote), and the conversation log (filter
by refused / thumbs-down) with the unanswered questions as CSV, so staff can
write new FAQ entries or synonyms. ``build_admin`` lays them out, one builder per tab.

The work is done by ``AdminActions`` (plain Python, tested directly); the
Gradio layer only wires widgets to it. Services and the log are reached
through getters because they are built in the API's lifespan, after mounting.

Files: Gradio keeps what the browser uploads in its temp folder, which here is a
private folder of this process (``gradio_temp_dir``: mode 0700, removed at exit)
unless the operator sets ``GRADIO_TEMP_DIR``. Gradio serves files from that folder
only (no ``allowed_paths``), and ``AdminActions.save_uploads`` takes files from it
only: a forged upload event naming another path on the server is refused.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import ConfigError, InputError, KitError
from madoguchi.ui.admin_inbox import inbox_tab
from madoguchi.ui.api.handoff import deliver_reply

UPLOAD_SUFFIXES = {
    ".csv", ".tsv", ".txt", ".md", ".markdown", ".html", ".htm", ".pdf",
    ".docx", ".xlsx", ".pptx",
}  # fmt: skip
SOURCE_COLUMNS = ["source", "kind", "chunks", "title", "indexed"]
HIT_COLUMNS = ["#", "source", "title", "score", "dense", "bm25", "ranks", "passage"]
LOG_COLUMNS = ["time", "question", "lang", "mode", "confidence", "refused", "feedback",
               "comment", "answer", "sources", "ms"]  # fmt: skip
SUGGESTION_COLUMNS = [
    "語 (phrase)",
    "資料にない語 (unknown)",
    "回数",
    "近い見出し (nearest)",
    "例 (example)",
]
TRANSLATION_COLUMNS = ["出典 (entry)", "言語 (lang)", "状態 (status)", "日本語 (Japanese)",
                       "翻訳 (translation)", "メモ (note)"]  # fmt: skip
TRANSLATION_STATUS = {
    "machine": "機械翻訳 (machine)",
    "review": "要確認 (review)",
    "approved": "承認済み (approved)",
    "rejected": "却下 (rejected)",
}
TRANSLATION_FILTERS: dict[str, tuple[str, ...]] = {
    "確認待ち (to check)": ("machine", "review", "stale"),
    "すべて (all)": (),
    "承認済み (approved)": ("approved",),
    "却下 (rejected)": ("rejected",),
}
LOG_FILTERS: dict[str, dict[str, Any]] = {
    "すべて (all)": {},
    "回答できなかった (refused)": {"refused": True},
    "役に立たなかった (thumbs-down)": {"feedback": 0},
}

Reporter = Callable[[int, str], None]  # (documents seen so far, description)


_TEMP_LOCK = threading.Lock()


def gradio_temp_dir() -> Path:
    """Where Gradio keeps uploads, and so the only files the screen reads or serves.

    ``GRADIO_TEMP_DIR`` when the operator set it (it must not be the shared temp folder
    itself); else a private folder made once per process and handed to Gradio through
    that same variable, which Gradio reads whenever it checks a path.
    """
    with _TEMP_LOCK:
        named = os.environ.get("GRADIO_TEMP_DIR")
        if named:
            path = Path(named).resolve()
            shared = {Path(tempfile.gettempdir()).resolve(), Path("/"), Path.home().resolve()}
            if path in shared:
                raise ConfigError(
                    f"GRADIO_TEMP_DIR={named} would let the admin screen read every file "
                    "there; unset it or name a folder of its own"
                )
            path.mkdir(parents=True, exist_ok=True)
            return path
        path = Path(tempfile.mkdtemp(prefix="madoguchi-admin-")).resolve()
        atexit.register(shutil.rmtree, path, True)
        os.environ["GRADIO_TEMP_DIR"] = str(path)
        return path


def upload_dir_for(settings: Settings) -> Path:
    if settings.server.upload_dir is not None:
        return Path(settings.server.upload_dir)
    data = Path(settings.data_dir)
    return data.parent / f"{data.name}-uploads"


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/:*?\"<>|]", "_", base).strip(" .")
    return base or "upload"


def _source_arg(path: Path) -> str:
    """The path as the CLI would be given it: relative to the working directory when inside."""
    full = path.resolve()
    try:
        return full.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return full.as_posix()


class AdminActions:
    def __init__(
        self,
        services: Callable[[], TownServices],
        log: Callable[[], ConversationLog | None],
        settings: Settings,
        incoming_dir: Path | None = None,
    ) -> None:
        self._services = services
        self._log = log
        self.settings = settings
        self.upload_dir = upload_dir_for(settings)
        # where uploads arrive (Gradio's temp folder); None: gradio_temp_dir() when needed
        self.incoming_dir = incoming_dir

    # ------------------------------------------------------------ documents

    def save_uploads(self, paths: list[str]) -> tuple[list[Path], list[str]]:
        """Copy uploaded files into the upload folder; refused ones come back with reasons.

        Only files inside the incoming folder are taken (symbolic links resolved first):
        a path is what the browser's event names, and an event can name any path."""
        saved: list[Path] = []
        refused: list[str] = []
        incoming = (self.incoming_dir or gradio_temp_dir()).resolve()
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        for p in paths:
            src = Path(p)
            name = _safe_name(src.name)
            real = src.resolve()
            if not real.is_relative_to(incoming) or not real.is_file():
                refused.append(
                    f"{name}: この画面でアップロードされたファイルではありません"
                    " (not a file uploaded through this screen)"
                )
                continue
            if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
                refused.append(f"{name}: この形式は取り込めません (not a supported file type)")
                continue
            dest = self.upload_dir / name
            shutil.copyfile(src, dest)
            saved.append(dest)
        return saved, refused

    def ingest_paths(self, paths: list[Path], report: Reporter | None = None) -> str:
        """Index the given files (or the whole upload folder); a Markdown report."""
        svc = self._services()
        seen = 0

        def progress(_event: str, n: int) -> None:
            nonlocal seen
            seen += n
            if report is not None:
                report(seen, f"{seen} 件の文書を処理")

        args = [_source_arg(p) for p in paths]
        res = svc.ingest(args, progress=progress)
        c = res.counts()
        lines = [
            f"**取り込み完了** ({res.seconds:.1f} 秒): 追加 {c['added']} ・ 更新 {c['updated']}"
            f" ・ 変更なし {c['unchanged']} ・ 削除 {c['removed']} ・ スキップ {c['skipped']}",
        ]
        if res.chunks_embedded:
            lines.append(
                f"{res.chunks_embedded} 個の文章を埋め込み ({res.tokens_per_second:.0f} tokens/s)"
            )
        for sid, reason in res.skipped:
            lines.append(f"- スキップ `{sid}`: {reason}")
        for sid, warning in res.warnings:
            lines.append(f"- 要確認 `{sid}`: {warning}")
        for sid, pages in res.ocr_by_source().items():
            shown = "、".join(
                f"p.{p.page} 信頼度 {p.confidence:.0f}%" + ("（要確認）" if p.low else "")
                for p in pages[:12]
            )
            more = f" ほか {len(pages) - 12} ページ" if len(pages) > 12 else ""
            per_page = sum(p.seconds for p in pages) / len(pages)
            lines.append(
                f"- 文字認識 (OCR) `{sid}`: スキャンされた {len(pages)} ページを読み取り"
                f"（{shown}{more}）、1 ページ {per_page:.1f} 秒"
            )
        lines.append(f"索引の合計: {svc.index.chunk_count()} 個の文章")
        return "\n\n".join(lines)

    def upload_and_ingest(self, paths: list[str], report: Reporter | None = None) -> str:
        if not paths:
            raise InputError("ファイルを選んでください (choose files to upload)")
        saved, refused = self.save_uploads(paths)
        text = self.ingest_paths(saved, report) if saved else "取り込むファイルがありません。"
        if refused:
            text += "\n\n" + "\n".join(f"- {r}" for r in refused)
        return text

    def resync(self, report: Reporter | None = None) -> str:
        """Re-read the whole upload folder: changed files updated, deleted ones dropped."""
        if not self.upload_dir.is_dir():
            raise InputError("まだアップロードされた文書がありません (nothing uploaded yet)")
        return self.ingest_paths([self.upload_dir], report)

    def sources(self, prefix: str | None = None) -> list[list[Any]]:
        rows = self._services().index.sources(prefix=prefix or None)
        return [
            [
                s.source_id,
                s.kind,
                s.n_chunks,
                s.title,
                time.strftime("%Y-%m-%d %H:%M", time.localtime(s.indexed_at)),
            ]
            for s in rows
        ]

    def remove(self, source: str) -> str:
        """Remove a source (or all under a path); an uploaded file is deleted too."""
        source = (source or "").strip()
        if not source:
            raise InputError("削除する出典を入力してください (enter a source id)")
        svc = self._services()
        ids = [s.source_id for s in svc.index.sources(prefix=source)]
        if not ids:
            raise InputError(f"{source!r} に一致する出典はありません (no such source)")
        svc.index.remove(ids)
        for sid in ids:
            path = Path(sid.split("#", 1)[0])
            if path.is_file() and path.resolve().parent == self.upload_dir.resolve():
                path.unlink()
        return f"{len(ids)} 件の出典を削除しました。"

    # ------------------------------------------------------------ trying questions

    def try_question(self, question: str, lang: str | None = None) -> tuple[str, list[list[Any]]]:
        """The answer as residents would get it (not logged), and the passages behind it."""
        svc = self._services()
        res = svc.ask(question, lang=lang or None)
        a = res.answer
        head = "回答できません (refused)" if a.refused else "回答"
        lines = [
            f"### {head}",
            f"mode `{a.mode}` ・ confidence **{a.confidence:.2f}** ・ lang `{a.lang}` ・ "
            f"{res.latency_ms:.0f} ms",
            "",
            a.text,
        ]
        if a.follow_up:
            lines += ["", f"*{a.follow_up}*"]
        for i, c in enumerate(a.citations, 1):
            lines.append(f"\n[{i}] {c.title} — `{c.url or c.source_id}`")
        found = svc.synonyms.current().expand(question)
        if found:
            said = "、".join(f"{e.word} → {' / '.join(e.alternatives)}" for e in found)
            lines += ["", f"言い換え辞書 (synonyms): {said}"]
        timings = " ・ ".join(f"{k} {v:.1f}" for k, v in res.timings.items())
        lines += ["", f"<small>timings (ms): {timings}</small>"]
        rows = [
            [
                i,
                h.chunk.source_id,
                h.chunk.title,
                round(h.score, 5),
                round(float(h.signals.get("dense", float("nan"))), 4),
                round(float(h.signals.get("bm25", 0.0)), 3),
                " ".join(f"{k}:{v}" for k, v in sorted(h.ranks.items())),
                h.chunk.text[:300],
            ]
            for i, h in enumerate(res.hits, 1)
        ]
        return "\n".join(lines), rows

    # ------------------------------------------------------------ synonyms

    def synonyms_text(self) -> str:
        return str(self._services().synonyms.text())

    def save_synonyms(self, text: str) -> str:
        """Check and save the synonym list; it is used from the next question."""
        f = self._services().synonyms
        syn = f.save_text(text or "")
        return f"保存しました (saved): {len(syn)} グループ、次の質問から使われます。"

    def synonym_suggestions(self) -> list[list[Any]]:
        """Unknown words of the unanswered questions, for the synonyms tab."""
        from madoguchi.kit.synonyms import suggest_from_log

        log = self._log()
        if log is None:
            raise InputError("会話ログは無効です (conversation log is off)")
        svc = self._services()
        return [
            [s.word, s.unknown, s.questions, " / ".join(s.nearest), s.example]
            for s in suggest_from_log(log, svc.index.view(), svc.embedder, svc.synonyms.current())
        ]

    # ------------------------------------------------------------ the log

    def logs(self, which: str = "すべて (all)", limit: int = 200) -> list[list[Any]]:
        log = self._log()
        if log is None:
            return []
        filters = LOG_FILTERS.get(which, {})
        out = []
        for t in log.turns(limit=int(limit), **filters):
            out.append(
                [
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(t.ts)),
                    t.question,
                    t.lang,
                    t.mode,
                    round(t.confidence, 2),
                    "はい" if t.refused else "",
                    {1: "👍", 0: "👎"}.get(t.feedback, "") if t.feedback is not None else "",
                    t.comment or "",
                    t.answer[:200],
                    " ".join(c.get("source") or "" for c in t.citations),
                    round(t.latency_ms),
                ]
            )
        return out

    def log_summary(self) -> str:
        log = self._log()
        if log is None:
            return "会話ログは無効です (server.log_conversations = false)。"
        return (
            f"記録 {log.count()} 件 ・ 回答できなかった {log.count(refused=True)} 件 ・ "
            f"👎 {log.count(feedback=0)} 件 ・ 👍 {log.count(feedback=1)} 件 "
            f"(保存期間 {log.retention_days} 日)"
        )

    def export_unanswered(self) -> str:
        """Write the unanswered questions to a CSV file and return its path (for download)."""
        log = self._log()
        if log is None:
            raise InputError("会話ログは無効です (conversation log is off)")
        # beside the uploads, in the one folder Gradio serves files from
        folder = Path(
            tempfile.mkdtemp(prefix="export-", dir=self.incoming_dir or gradio_temp_dir())
        )
        path = folder / f"unanswered-{time.strftime('%Y%m%d-%H%M')}.csv"
        # the owner's only, like the log it comes from (the folder is already 0700)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(log.unanswered_csv().encode("utf-8"))
        return str(path)

    # ------------------------------------------------------------ machine translations

    def _faq_files(self) -> list[Path]:
        from madoguchi.ingest.translate import indexed_faq_files

        return indexed_faq_files(self._services().index)[0]

    def translations(self, which: str = "確認待ち (to check)", lang: str = "") -> list[list[Any]]:
        """Machine translations of the indexed FAQ files beside their Japanese text."""
        from madoguchi.ingest.translate import reviews

        wanted = TRANSLATION_FILTERS.get(which, ())
        rows = []
        for r in reviews(self._faq_files(), lang or None):
            state = "stale" if r.stale else r.row.status
            if wanted and state not in wanted:
                continue
            label = (
                "原文が変更 (Japanese changed)"
                if r.stale
                else TRANSLATION_STATUS.get(r.row.status, r.row.status)
            )
            rows.append(
                [
                    r.entry.source_id,
                    r.lang,
                    label,
                    f"{r.entry.question}\n\n{r.entry.answer}",
                    f"{r.row.question}\n\n{r.row.answer}",
                    r.row.note,
                ]
            )
        return rows

    def translation(self, source_id: str, lang: str) -> tuple[str, str, str]:
        """(translated question, translated answer, the Japanese) of one entry, to edit."""
        from madoguchi.ingest.translate import reviews

        for r in reviews(self._faq_files(), lang):
            if r.entry.source_id == source_id:
                ja = f"**{r.entry.question}**\n\n{r.entry.answer}"
                return r.row.question, r.row.answer, ja
        raise InputError(f"{source_id} ({lang}) に機械翻訳はありません (no such translation)")

    def decide_translation(
        self, source_id: str, lang: str, question: str, answer: str, action: str
    ) -> str:
        """Approve (as edited) or reject a translation, then re-index its FAQ file so the
        answers change at once."""
        from madoguchi.ingest.translate import decide

        source_id, lang = (source_id or "").strip(), (lang or "").strip()
        if "#" not in source_id or not lang:
            raise InputError("一覧から翻訳を選んでください (choose a translation in the list)")
        name, key = source_id.split("#", 1)
        file = next((f for f in self._faq_files() if f.as_posix() == name), None)
        if file is None:
            raise InputError(f"{name} は索引にありません (not an indexed FAQ file)")
        _, problems = decide(file, lang, key, action, question=question, answer=answer, who="admin")
        res = self._services().ingest([name])
        done = "承認しました (approved)" if action == "approve" else "却下しました (rejected)"
        lines = [f"{source_id} ({lang}): {done}。索引を更新: 更新 {len(res.updated)} 件"]
        if problems:
            lines.append("確認してください (the checks still find): " + "; ".join(problems))
        return "\n\n".join(lines)


class OnOpen(NamedTuple):
    """What a tab refreshes when the screen opens: ``blocks.load(fn, inputs, outputs)``."""

    fn: Callable[..., Any]
    inputs: list[Any] | None
    outputs: list[Any]


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A KitError becomes a Gradio error message instead of a stack trace."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KitError as exc:
            import gradio as gr

            raise gr.Error(str(exc)) from exc

    return wrapped


def _progress_reporter(progress: Any) -> Reporter:
    return lambda n, desc: progress((n, None), desc=desc, unit="文書")


def build_admin(actions: AdminActions) -> Any:
    """The Gradio Blocks of the staff screen: the five tabs, then what loads on opening."""
    import gradio as gr

    town = actions.settings.widget.town
    with gr.Blocks(title=f"madoguchi 管理画面 — {town}", analytics_enabled=False) as blocks:
        gr.Markdown(
            f"# madoguchi 管理画面 — {town}\n"
            "資料の取り込み・削除、質問の試行、会話ログの確認ができます。"
            " [ログアウト](/logout)"
        )
        sources = _documents_tab(actions)
        _try_tab(actions)
        synonyms = _synonyms_tab(actions)
        translations = _translations_tab(actions)
        log = _log_tab(actions)
        inbox_tab(actions)  # residents' messages to staff (ui/admin_inbox.py)
        for on_open in (sources, log, synonyms, translations):
            blocks.load(on_open.fn, on_open.inputs, on_open.outputs)
    return blocks


def _documents_tab(actions: AdminActions) -> OnOpen:
    """Upload and ingest (with progress), re-sync, list and remove sources."""
    import gradio as gr

    @_guard
    def do_upload(files: list[Any] | None, progress: Any = gr.Progress()) -> tuple[str, Any]:  # noqa: B008
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        text = actions.upload_and_ingest(paths, _progress_reporter(progress))
        return text, actions.sources()

    @_guard
    def do_resync(progress: Any = gr.Progress()) -> tuple[str, Any]:  # noqa: B008
        return actions.resync(_progress_reporter(progress)), actions.sources()

    @_guard
    def do_remove(source: str, prefix: str) -> tuple[str, Any]:
        return actions.remove(source), actions.sources(prefix)

    @_guard
    def do_sources(prefix: str) -> Any:
        return actions.sources(prefix)

    def pick_source(evt: Any) -> str:
        row = getattr(evt, "row_value", None)
        return str(row[0]) if row else ""

    # Gradio finds the event argument by its annotation (a string here, because of
    # ``from __future__ import annotations`` and the local import)
    pick_source.__annotations__["evt"] = gr.SelectData

    with gr.Tab("資料 (documents)"):
        gr.Markdown(
            "FAQ の CSV、PDF、HTML、Markdown、Word/Excel/PowerPoint を選んで取り込みます。"
            "同じ名前のファイルは新しい内容で置き換わります。"
        )
        files = gr.File(
            label="アップロード (upload)",
            file_count="multiple",
            file_types=sorted(UPLOAD_SUFFIXES),
        )
        with gr.Row():
            upload_btn = gr.Button("取り込む (ingest)", variant="primary")
            resync_btn = gr.Button("アップロード済みを再同期 (re-sync)")
        ingest_out = gr.Markdown()
        with gr.Row():
            prefix = gr.Textbox(label="絞り込み (source prefix)", scale=3)
            refresh_btn = gr.Button("一覧を更新 (refresh)", scale=1)
        sources = gr.Dataframe(
            headers=SOURCE_COLUMNS,
            label="索引にある出典 (indexed sources)",
            interactive=False,
            wrap=True,
            max_height=420,
        )
        with gr.Row():
            remove_box = gr.Textbox(
                label="削除する出典 (source id, or a folder/file for all its rows)", scale=3
            )
            remove_btn = gr.Button("削除 (remove)", variant="stop", scale=1)
        remove_out = gr.Markdown()
        upload_btn.click(do_upload, [files], [ingest_out, sources])
        resync_btn.click(do_resync, None, [ingest_out, sources])
        refresh_btn.click(do_sources, [prefix], [sources])
        prefix.submit(do_sources, [prefix], [sources])
        remove_btn.click(do_remove, [remove_box, prefix], [remove_out, sources])
        sources.select(pick_source, None, [remove_box])
    return OnOpen(do_sources, [prefix], [sources])


def _try_tab(actions: AdminActions) -> None:
    """A question answered as residents would get it, with the passages and their scores."""
    import gradio as gr

    @_guard
    def do_try(question: str, lang: str) -> tuple[str, Any]:
        return actions.try_question(question, None if lang == "auto" else lang)

    with gr.Tab("質問を試す (try)"):
        with gr.Row():
            question = gr.Textbox(label="質問 (question)", scale=4)
            lang = gr.Dropdown(
                ["auto", *actions.settings.widget.languages],
                value="auto",
                label="言語 (language)",
                scale=1,
            )
        try_btn = gr.Button("回答を見る (ask)", variant="primary")
        answer = gr.Markdown()
        hits = gr.Dataframe(
            headers=HIT_COLUMNS,
            label="検索された文章とスコア (retrieved passages and scores)",
            interactive=False,
            wrap=True,
            column_widths=["4%", "13%", "15%", "7%", "7%", "7%", "13%", "34%"],
        )
        try_btn.click(do_try, [question, lang], [answer, hits])
        question.submit(do_try, [question, lang], [answer, hits])


def _synonyms_tab(actions: AdminActions) -> OnOpen:
    """The town's synonym list, and words of unanswered questions that no document uses."""
    import gradio as gr

    @_guard
    def do_synonyms() -> str:
        return actions.synonyms_text()

    @_guard
    def do_save_synonyms(text: str) -> str:
        return actions.save_synonyms(text)

    @_guard
    def do_suggest() -> list[list[Any]]:
        return actions.synonym_suggestions()

    with gr.Tab("言い換え (synonyms)"):
        gr.Markdown(
            "住民の言い方と資料の言い方が違う語を、1 行に 1 グループ、カンマ区切りで書きます"
            "（例: `スマホ, スマートフォン, 携帯電話`）。質問にどれかの語があると、"
            "ほかの語でも検索します。回答できなかった質問（会話ログ）を見て足してください。"
        )
        syn_text = gr.Textbox(label="言い換え辞書 (synonyms.csv)", lines=14, max_lines=40)
        syn_btn = gr.Button("保存 (save)", variant="primary")
        syn_out = gr.Markdown()
        syn_btn.click(do_save_synonyms, [syn_text], [syn_out])
        gr.Markdown(
            "回答できなかった質問のうち、どの資料にも出てこない語と、意味の近い見出し"
            "（品目名・FAQ の質問）です。資料の言い方が分かれば上に 1 行足してください。"
        )
        suggest_btn = gr.Button("言い換え候補を表示 (suggest from the log)")
        suggestions = gr.Dataframe(
            headers=SUGGESTION_COLUMNS,
            label="資料にない語 (words no document uses)",
            interactive=False,
            wrap=True,
        )
        suggest_btn.click(do_suggest, None, [suggestions])
    return OnOpen(do_synonyms, None, [syn_text])


def _translations_tab(actions: AdminActions) -> OnOpen:
    """Machine translations of the FAQ (``madoguchi translate``): approve, edit or reject."""
    import gradio as gr

    @_guard
    def do_list(which: str, lang: str) -> Any:
        return actions.translations(which, "" if lang == "all" else lang)

    @_guard
    def pick(sid: str, lang: str) -> tuple[str, str, str, str, str]:
        q, a, ja = actions.translation(sid, lang)
        return sid, lang, ja, q, a

    def do_pick(evt: Any) -> tuple[str, str, str, str, str]:
        row = getattr(evt, "row_value", None) or ["", ""]
        return pick(str(row[0]), str(row[1]))

    do_pick.__annotations__["evt"] = gr.SelectData  # as pick_source in the documents tab

    def decide(action: str) -> Callable[..., tuple[str, Any]]:
        @_guard
        def run(sid: str, lang: str, q: str, a: str, which: str, shown: str) -> tuple[str, Any]:
            msg = actions.decide_translation(sid, lang, q, a, action)
            return msg, actions.translations(which, "" if shown == "all" else shown)

        return run

    langs = [code for code in actions.settings.widget.languages if code != "ja"]
    with gr.Tab("翻訳 (translations)"):
        gr.Markdown(
            "`madoguchi translate` が作った FAQ の機械翻訳です。住民への回答には"
            "「機械翻訳」と表示されます。内容を確かめ、必要なら直して承認してください。"
            "却下した翻訳は使われません（日本語の原文が変わると翻訳し直します）。"
            "送られるのは公開 FAQ の本文だけで、住民の質問は送られません。"
        )
        with gr.Row():
            which = gr.Radio(
                list(TRANSLATION_FILTERS), value="確認待ち (to check)", label="表示", scale=3
            )
            lang = gr.Dropdown(["all", *langs], value="all", label="言語 (language)", scale=1)
            list_btn = gr.Button("表示 (show)", scale=1)
        table = gr.Dataframe(
            headers=TRANSLATION_COLUMNS,
            label="機械翻訳 (machine translations): 行を選ぶと下で編集できます",
            interactive=False,
            wrap=True,
            max_height=420,
        )
        with gr.Row():
            sid = gr.Textbox(label="出典 (entry)", interactive=False, scale=2)
            code = gr.Textbox(label="言語 (lang)", interactive=False, scale=1)
        japanese = gr.Markdown()
        question = gr.Textbox(label="翻訳した質問 (translated question)", lines=2)
        answer = gr.Textbox(label="翻訳した回答 (translated answer)", lines=6)
        with gr.Row():
            approve_btn = gr.Button("承認 (approve)", variant="primary")
            reject_btn = gr.Button("却下 (reject)", variant="stop")
        result = gr.Markdown()
        list_btn.click(do_list, [which, lang], [table])
        which.change(do_list, [which, lang], [table])
        lang.change(do_list, [which, lang], [table])
        table.select(do_pick, None, [sid, code, japanese, question, answer])
        inputs = [sid, code, question, answer, which, lang]
        approve_btn.click(decide("approve"), inputs, [result, table])
        reject_btn.click(decide("reject"), inputs, [result, table])
    return OnOpen(do_list, [which, lang], [table])


def _log_tab(actions: AdminActions) -> OnOpen:
    """The conversation log (all, refused, thumbs-down) and the unanswered questions as CSV."""
    import gradio as gr

    @_guard
    def do_logs(which: str) -> tuple[str, Any]:
        return actions.log_summary(), actions.logs(which)

    @_guard
    def do_export() -> str:
        return actions.export_unanswered()

    with gr.Tab("会話ログ (log)"):
        with gr.Row():
            which = gr.Radio(list(LOG_FILTERS), value="すべて (all)", label="表示", scale=3)
            log_btn = gr.Button("表示 (show)", scale=1)
        summary = gr.Markdown()
        turns = gr.Dataframe(
            headers=LOG_COLUMNS, label="会話 (turns)", interactive=False, wrap=True
        )
        log_btn.click(do_logs, [which], [summary, turns])
        which.change(do_logs, [which], [summary, turns])
        gr.Markdown(
            "回答できなかった質問と 👎 の質問を CSV で書き出し、新しい FAQ の作成に使えます。"
        )
        export_btn = gr.Button("未回答の質問を CSV で書き出す (export unanswered)")
        export_file = gr.File(label="CSV", interactive=False)
        export_btn.click(do_export, None, [export_file])
    return OnOpen(do_logs, [which], [summary, turns])


def mount_admin(
    app: Any,
    services: Callable[[], TownServices],
    log: Callable[[], ConversationLog | None],
    settings: Settings,
) -> AdminActions:
    """Mount the screen at /admin (the API's AdminGateMiddleware guards the path).

    The private temp folder is named before the Blocks and the app are made, since both
    read it then; no ``allowed_paths``: Gradio serves only what was uploaded or made."""
    import gradio as gr

    incoming = gradio_temp_dir()
    actions = AdminActions(services, log, settings, incoming_dir=incoming)
    # the inbox tab: the app's clock, and its LINE hub to push replies to LINE tickets
    actions.clock = getattr(app.state, "clock", None)  # type: ignore[attr-defined]
    actions.deliver_reply = functools.partial(  # type: ignore[attr-defined]
        deliver_reply, app, settings, ""
    )
    blocks = build_admin(actions)
    gr.mount_gradio_app(
        app,
        blocks,
        path="/admin",
        ssr_mode=False,
        show_error=True,
        footer_links=[],
        max_file_size=settings.server.max_upload_bytes,
        allowed_paths=[],
        blocked_paths=[str(Path(settings.data_dir).resolve())],
    )
    # Before an event runs, Gradio copies each file its data names into the temp folder,
    # and refuses a file that was not uploaded there only once the Blocks "has launched";
    # a mounted Blocks never launches, so without this any server path would be copied in.
    blocks.has_launched = True
    return actions
