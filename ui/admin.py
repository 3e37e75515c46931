"""The staff screen (Gradio), mounted on the API app at ``/admin`` behind the admin key.

Five tabs: documents (upload + ingest with progress and 中止, re-sync, list, filter
and remove sources), try a question (answer plus the retrieved passages and their
scores), the town's synonym list (kit.synonyms) with words of unanswered
questions that no document uses, the FAQ's machine translations (approve, edit
or reject what ``madoguchi translate`` wrote), and the conversation log (filter
by refused / thumbs-down) with the unanswered questions as CSV, so staff can
write new FAQ entries or synonyms. ``build_admin`` lays them out, one builder per tab.

The work is done by ``AdminActions`` (plain Python, tested directly); the
Gradio layer only wires widgets to it. Services and the log are reached
through getters because they are built in the API's lifespan, after mounting.

Words: everything staff read is Japanese, in plain words (件, 秒, 回答できた割合);
figures for whoever tunes the kit (scores per search, timings, embedding speed) sit
in a 詳細 fold. A failed action is said in its tab's status area (``_reports_to``:
what happened and what to do, the kit's English original under 詳細, see
``admin_messages``), never in a popup, and it updates nothing else, so the tables
keep their rows and the screen stays usable. A tab added in its own module follows
the same pattern: ``_status()`` for its area, ``@_reports_to(area)`` on its handlers,
and returns an ``OnOpen`` for ``build_admin``.

Files: Gradio keeps what the browser uploads in its temp folder, which here is a
private folder of this process (``gradio_temp_dir``: mode 0700, removed at exit)
unless the operator sets ``GRADIO_TEMP_DIR``. Gradio serves files from that folder
only (no ``allowed_paths``), and ``AdminActions.save_uploads`` takes files from it
only: a forged upload event naming another path on the server is refused.
"""

from __future__ import annotations

import atexit
import functools
import html
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from madoguchi.connectors.folder import KINDS, LEGACY
from madoguchi.ingest.services import TownServices
from madoguchi.kit.config import Settings
from madoguchi.kit.convlog import ConversationLog
from madoguchi.kit.errors import ConfigError, InputError, KitError
from madoguchi.ui.admin_inbox import inbox_tab
from madoguchi.ui.admin_messages import say
from madoguchi.ui.admin_schedule import schedule_tab
from madoguchi.ui.admin_usage import usage_tab
from madoguchi.ui.api.handoff import deliver_reply

# what the folder connector reads (``connectors.folder.KINDS``); the upload box takes any
# file, and one of another type gets the kit's reason, in Japanese (``admin_messages``)
UPLOAD_SUFFIXES = set(KINDS)
SOURCE_COLUMNS = ["出典", "種類", "文章の数", "題名", "取り込んだ日時"]
HIT_COLUMNS = ["順位", "出典", "題名", "近さ", "文章"]
# the 詳細 (details) fold of the try tab: each search's signal and rank
HIT_DETAIL_COLUMNS = ["順位", "出典", "総合点", "意味の近さ (dense)", "語の一致 (BM25)",
                      "各検索での順位 (ranks)"]  # fmt: skip
LOG_COLUMNS = ["日時", "質問", "言語", "答え方", "確からしさ", "未回答", "評価", "コメント",
               "回答", "出典", "秒"]  # fmt: skip
# fitted to a 1280-pixel screen, the answer widest (its whole text wraps in the cell)
LOG_WIDTHS: list[str | int] = ["9%", "16%", "6%", "9%", "8%", "5%", "4%", "8%", "23%", "9%",
                               "3%"]  # fmt: skip
SUGGESTION_COLUMNS = ["語", "資料にない部分", "回数", "近い見出し", "質問の例"]
TRANSLATION_COLUMNS = ["出典", "言語", "状態", "日本語", "翻訳", "メモ"]
TRANSLATION_STATUS = {
    "machine": "機械翻訳",
    "review": "要確認",
    "approved": "承認済み",
    "rejected": "却下",
}
TRANSLATION_FILTERS: dict[str, tuple[str, ...]] = {
    "確認待ち": ("machine", "review", "stale"),
    "すべて": (),
    "承認済み": ("approved",),
    "却下": ("rejected",),
}
LOG_FILTERS: dict[str, dict[str, Any]] = {
    "すべて": {},
    "回答できなかった": {"refused": True},
    "役に立たなかった（👎）": {"feedback": 0},
}
KIND_NAMES = {"faq": "FAQ", "page": "ページ", "pdf": "PDF", "text": "テキスト", "table": "表"}
MODE_NAMES = {
    "faq": "FAQ の回答",
    "extractive": "資料から抜き出し",
    "llm": "AI が文章を作成",
    "abstain": "回答せず",
    "refused": "回答せず",
}
LANG_NAMES = {
    "ja": "日本語", "ja-easy": "やさしい日本語", "en": "英語", "zh-Hans": "中国語（簡体字）",
    "zh-Hant": "中国語（繁体字）", "ko": "韓国語", "vi": "ベトナム語", "tl": "タガログ語",
    "pt": "ポルトガル語", "es": "スペイン語", "ne": "ネパール語", "id": "インドネシア語",
    "th": "タイ語", "my": "ミャンマー語",
}  # fmt: skip
AUTO_LANG = "自動"
ALL_LANGS = "すべて"

_logger = logging.getLogger(__name__)
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


def natural_key(text: str) -> list[Any]:
    """Sort key that reads runs of digits as numbers: ``faq.csv#2`` before ``faq.csv#10``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in _DIGITS.split(text)]


_DIGITS = re.compile(r"(\d+)")


def _details(originals: list[str]) -> str:
    """The kit's own words behind the Japanese, folded away (the 詳細 fold)."""
    if not originals:
        return ""
    body = "\n".join(f"- {html.escape(o)}" for o in originals)
    return f"\n\n<details><summary>詳細</summary>\n\n{body}\n\n</details>"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _seconds(s: float) -> str:
    return f"{s:.1f} 秒" if s < 60 else f"{int(s // 60)} 分 {s % 60:.0f} 秒"


class IngestCancelled(KitError):
    """Staff pressed 中止 while documents were being taken in."""


class TryResult(NamedTuple):
    """What the try tab shows: the answer, the passages, and the 詳細 fold's figures."""

    answer: str
    rows: list[list[Any]]
    details: str
    detail_rows: list[list[Any]]


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
        # one ingest or re-sync at a time from this screen; 中止 sets the flag, and the
        # run stops before its next document
        self._ingesting = threading.Lock()
        self._cancel = threading.Event()

    # ------------------------------------------------------------ documents

    def save_uploads(self, paths: list[str]) -> tuple[list[Path], list[str]]:
        """Copy uploaded files into the upload folder; refused ones come back with reasons.

        Only files inside the incoming folder are taken (symbolic links resolved first):
        a path is what the browser's event names, and an event can name any path. A file
        the kit cannot read is refused with the folder connector's reason, in Japanese."""
        saved: list[Path] = []
        refused: list[str] = []
        incoming = (self.incoming_dir or gradio_temp_dir()).resolve()
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        for p in paths:
            src = Path(p)
            name = _safe_name(src.name)
            real = src.resolve()
            if not real.is_relative_to(incoming) or not real.is_file():
                refused.append(f"{name}: この画面でアップロードされたファイルではありません。")
                continue
            ext = Path(name).suffix.lower()
            if ext in LEGACY:
                refused.append(f"{name}: {say(f'unsupported: {LEGACY[ext]}')[0]}")
                continue
            if ext not in UPLOAD_SUFFIXES:
                refused.append(f"{name}: {say(f'unsupported file type {ext or name!r}')[0]}")
                continue
            dest = self.upload_dir / name
            shutil.copyfile(src, dest)
            saved.append(dest)
        return saved, refused

    def cancel_ingest(self) -> str:
        """Ask the running ingest to stop; wait (a little) until it has."""
        if not self._ingesting.locked():
            return "実行中の取り込みはありません。"
        self._cancel.set()
        if self._ingesting.acquire(timeout=30):
            self._ingesting.release()
            return (
                "取り込みを中止しました。中止までに取り込んだ文書は索引に入っています。"
                "続きは「取り込む」か「再同期」をもう一度押すと行われます。"
            )
        return "中止を受け付けました。いま処理中の文書が終わりしだい止まります。"

    def ingest_paths(self, paths: list[Path], report: Reporter | None = None) -> str:
        """Index the given files (or the whole upload folder); a Markdown report."""
        if not self._ingesting.acquire(blocking=False):
            raise InputError(
                "別の取り込みが実行中です。終わってから（または中止してから）もう一度押してください。"
            )
        try:
            self._cancel.clear()
            return self._ingest(paths, report)
        finally:
            self._cancel.clear()
            self._ingesting.release()

    def _ingest(self, paths: list[Path], report: Reporter | None) -> str:
        svc = self._services()
        seen = 0

        def progress(_event: str, n: int) -> None:
            nonlocal seen
            if self._cancel.is_set():
                raise IngestCancelled(f"中止しました（{seen} 件目まで処理）。")
            seen += n
            if report is not None:
                report(seen, f"{seen} 件目の文書を処理中")

        args = [_source_arg(p) for p in paths]
        res = svc.ingest(args, progress=progress)
        c = res.counts()
        originals: list[str] = []
        lines = [
            f"**取り込みが終わりました**（{_seconds(res.seconds)}）: 追加 {c['added']} 件"
            f"・更新 {c['updated']} 件・変更なし {c['unchanged']} 件・削除 {c['removed']} 件"
            f"・取り込めなかった {c['skipped']} 件",
        ]
        if res.skipped:
            lines.append("**取り込めなかったもの**")
        for sid, reason in res.skipped:
            ja, original = say(reason)
            lines.append(f"- `{sid}`: {ja}")
            if original:
                originals.append(f"{sid}: {original}")
        for sid, warning in res.warnings:
            ja, original = say(warning)
            lines.append(f"- 確認してください `{sid}`: {ja}")
            if original:
                originals.append(f"{sid}: {original}")
        for sid, pages in res.ocr_by_source().items():
            shown = "、".join(
                f"{p.page} ページ目 {p.confidence:.0f}%" + ("（要確認）" if p.low else "")
                for p in pages[:12]
            )
            more = f" ほか {len(pages) - 12} ページ" if len(pages) > 12 else ""
            per_page = sum(p.seconds for p in pages) / len(pages)
            lines.append(
                f"- 文字認識 `{sid}`: スキャンされた {len(pages)} ページを読み取りました"
                f"（読み取れた確からしさ: {shown}{more}）。1 ページ {per_page:.1f} 秒"
            )
        lines.append(f"索引にある文章: 全部で {svc.index.chunk_count()} 個")
        if res.chunks_embedded:
            originals.append(
                f"{res.chunks_embedded} chunks embedded, {res.tokens_embedded} tokens, "
                f"{res.tokens_per_second:.0f} tokens/s"
            )
        return "\n\n".join(lines) + _details(originals)

    def upload_and_ingest(self, paths: list[str], report: Reporter | None = None) -> str:
        if not paths:
            raise InputError(
                "ファイルが選ばれていません。上の枠にファイルをドロップするか、"
                "枠をクリックして選んでから「取り込む」を押してください。"
            )
        saved, refused = self.save_uploads(paths)
        refused = list(dict.fromkeys(refused))  # the same file chosen twice: said once
        if not saved:
            return "⚠️ **取り込めませんでした。**\n\n" + "\n".join(f"- {r}" for r in refused)
        text = self.ingest_paths(list(dict.fromkeys(saved)), report)
        if refused:
            text += "\n\n**取り込めなかったファイル**\n\n" + "\n".join(f"- {r}" for r in refused)
        return text

    def resync(self, report: Reporter | None = None) -> str:
        """Re-read the whole upload folder: changed files updated, deleted ones dropped."""
        if not self.upload_dir.is_dir():
            raise InputError(
                "まだこの画面からアップロードされた資料がありません。先に「取り込む」で資料を入れてください。"
            )
        return self.ingest_paths([self.upload_dir], report)

    def sources(self, text: str | None = None) -> list[list[Any]]:
        """The indexed sources whose id or title contains ``text`` (any part, any case),
        in natural order (``#2`` before ``#10``)."""
        rows = self._services().index.sources()
        wanted = (text or "").strip().casefold()
        if wanted:
            rows = [
                s
                for s in rows
                if wanted in s.source_id.casefold() or wanted in (s.title or "").casefold()
            ]
        rows.sort(key=lambda s: natural_key(s.source_id))
        return [
            [s.source_id, KIND_NAMES.get(s.kind, s.kind), s.n_chunks, s.title, _when(s.indexed_at)]
            for s in rows
        ]

    def remove(self, source: str) -> str:
        """Remove a source (or all under a path); an uploaded file is deleted too."""
        source = (source or "").strip()
        if not source:
            raise InputError(
                "削除する出典が入っていません。一覧の行をクリックすると、その出典が入ります。"
            )
        svc = self._services()
        ids = [s.source_id for s in svc.index.sources(prefix=source)]
        if not ids:
            raise InputError(
                f"「{source}」という出典は索引にありません（もう削除されたか、名前が違います）。"
                "一覧の行をクリックして選び直してください。"
            )
        svc.index.remove(ids)
        for sid in ids:
            path = Path(sid.split("#", 1)[0])
            if path.is_file() and path.resolve().parent == self.upload_dir.resolve():
                path.unlink()
        return f"{len(ids)} 件の出典を削除しました。"

    # ------------------------------------------------------------ trying questions

    def try_question(self, question: str, lang: str | None = None) -> tuple[str, list[list[Any]]]:
        """The answer as residents would get it (not logged), and the passages behind it."""
        r = self.try_question_full(question, lang)
        return r.answer, r.rows

    def try_question_full(self, question: str, lang: str | None = None) -> TryResult:
        """``try_question`` with the figures behind it, for the 詳細 fold."""
        svc = self._services()
        res = svc.ask(question, lang=lang or None)
        a = res.answer
        head = (
            "回答できません（住民には「お答えできません」と表示されます）" if a.refused else "回答"
        )
        lines = [
            f"### {head}",
            f"答え方: {MODE_NAMES.get(a.mode, a.mode)}・確からしさ **{a.confidence:.2f}**"
            f"・言語: {LANG_NAMES.get(a.lang, a.lang)}・{res.latency_ms / 1000:.2f} 秒",
            "",
            a.text,
        ]
        if a.follow_up:
            lines += ["", f"*{a.follow_up}*"]
        for i, c in enumerate(a.citations, 1):
            lines.append(f"\n[{i}] {c.label} — `{c.url or c.source_id}`")
        found = svc.synonyms.current().expand(question)
        if found:
            said = "、".join(f"{e.word} → {' / '.join(e.alternatives)}" for e in found)
            lines += ["", f"言い換えで探した語: {said}"]
        rows = [
            [i, h.chunk.source_id, h.chunk.title, round(h.score, 3), h.chunk.text[:300]]
            for i, h in enumerate(res.hits, 1)
        ]
        detail_rows = [
            [
                i,
                h.chunk.source_id,
                round(h.score, 5),
                round(float(h.signals.get("dense", float("nan"))), 4),
                round(float(h.signals.get("bm25", 0.0)), 3),
                " ".join(f"{k}:{v}" for k, v in sorted(h.ranks.items())),
            ]
            for i, h in enumerate(res.hits, 1)
        ]
        timings = "・".join(f"{k} {v:.1f}" for k, v in res.timings.items())
        details = f"答え方 `{a.mode}`・言語 `{a.lang}`・時間の内訳 (ms): {timings}"
        return TryResult("\n".join(lines), rows, details, detail_rows)

    # ------------------------------------------------------------ synonyms

    def synonyms_text(self) -> str:
        return str(self._services().synonyms.text())

    def save_synonyms(self, text: str) -> str:
        """Check and save the synonym list; it is used from the next question."""
        f = self._services().synonyms
        syn = f.save_text(text or "")
        return f"保存しました: {len(syn)} グループ。次の質問から使われます。"

    def synonym_suggestions(self) -> list[list[Any]]:
        """Unknown words of the unanswered questions, for the synonyms tab."""
        from madoguchi.kit.synonyms import suggest_from_log

        log = self._log()
        if log is None:
            raise InputError("会話ログが無効になっているため、候補を出せません。")
        svc = self._services()
        return [
            [s.word, s.unknown, s.questions, " / ".join(s.nearest), s.example]
            for s in suggest_from_log(log, svc.index.view(), svc.embedder, svc.synonyms.current())
        ]

    # ------------------------------------------------------------ the log

    def logs(self, which: str = "すべて", limit: int = 200) -> list[list[Any]]:
        log = self._log()
        if log is None:
            return []
        filters = LOG_FILTERS.get(which, {})
        out = []
        for t in log.turns(limit=int(limit), **filters):
            answer = t.answer if len(t.answer) <= 400 else t.answer[:400] + "…"
            out.append(
                [
                    _when(t.ts),
                    t.question,
                    LANG_NAMES.get(t.lang, t.lang),
                    MODE_NAMES.get(t.mode, t.mode),
                    round(t.confidence, 2),
                    "はい" if t.refused else "",
                    {1: "👍", 0: "👎"}.get(t.feedback, "") if t.feedback is not None else "",
                    t.comment or "",
                    answer,
                    " ".join(c.get("source") or "" for c in t.citations),
                    round(t.latency_ms / 1000, 2),
                ]
            )
        return out

    def log_summary(self) -> str:
        log = self._log()
        if log is None:
            return "会話ログは無効になっています（設定 server.log_conversations = false）。"
        total, refused = log.count(), log.count(refused=True)
        rate = f"{(total - refused) / total:.0%}" if total else "—"
        return (
            f"記録 {total} 件・回答できた割合 {rate}・回答できなかった {refused} 件・"
            f"👎 {log.count(feedback=0)} 件・👍 {log.count(feedback=1)} 件"
            f"（{log.retention_days} 日たった記録は消えます）"
        )

    def export_unanswered(self) -> str:
        """Write the unanswered questions to a CSV file and return its path (for download)."""
        log = self._log()
        if log is None:
            raise InputError("会話ログが無効になっているため、書き出せません。")
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

    def translations(self, which: str = "確認待ち", lang: str = "") -> list[list[Any]]:
        """Machine translations of the indexed FAQ files beside their Japanese text."""
        from madoguchi.ingest.translate import reviews

        wanted = TRANSLATION_FILTERS.get(which, ())
        rows = []
        for r in reviews(self._faq_files(), lang or None):
            state = "stale" if r.stale else r.row.status
            if wanted and state not in wanted:
                continue
            label = (
                "日本語の原文が変更された"
                if r.stale
                else TRANSLATION_STATUS.get(r.row.status, r.row.status)
            )
            rows.append(
                [
                    r.entry.source_id,
                    LANG_NAMES.get(r.lang, r.lang),
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
        raise InputError(f"{source_id}（{LANG_NAMES.get(lang, lang)}）の機械翻訳はありません。")

    def decide_translation(
        self, source_id: str, lang: str, question: str, answer: str, action: str
    ) -> str:
        """Approve (as edited) or reject a translation, then re-index its FAQ file so the
        answers change at once."""
        from madoguchi.ingest.translate import decide

        source_id, lang = (source_id or "").strip(), (lang or "").strip()
        if "#" not in source_id or not lang:
            raise InputError("翻訳が選ばれていません。上の一覧の行をクリックして選んでください。")
        name, key = source_id.split("#", 1)
        file = next((f for f in self._faq_files() if f.as_posix() == name), None)
        if file is None:
            raise InputError(
                f"{name} は索引にある FAQ ではありません。一覧から選び直してください。"
            )
        _, problems = decide(file, lang, key, action, question=question, answer=answer, who="admin")
        res = self._services().ingest([name])
        done = "承認しました" if action == "approve" else "却下しました"
        lines = [
            f"{source_id}（{LANG_NAMES.get(lang, lang)}）: {done}。索引を更新しました（更新 {len(res.updated)} 件）。"
        ]
        if problems:
            lines.append("確認してください。自動の点検で気になる点が見つかりました（詳細）。")
        return "\n\n".join(lines) + _details(problems)


class OnOpen(NamedTuple):
    """What a tab refreshes when the screen opens: ``blocks.load(fn, inputs, outputs)``."""

    fn: Callable[..., Any]
    inputs: list[Any] | None
    outputs: list[Any]


def _said(exc: BaseException) -> tuple[str, str | None]:
    """(Japanese, the original) for a failed action; a bug is logged with its trace."""
    if isinstance(exc, KitError):
        return say(str(exc))
    _logger.exception("admin screen action failed")
    ja = (
        "思いがけないエラーが起きました。もう一度試しても同じときは、"
        "詳細をシステムの担当者に伝えてください。"
    )
    return ja, f"{type(exc).__name__}: {exc}"


def failure(exc: BaseException) -> str:
    """What a status area says when an action fails: what happened and what to do, in
    Japanese, with the kit's own words under 詳細. The screen stays as it was."""
    ja, original = _said(exc)
    return f"⚠️ **できませんでした。** {ja}" + _details([original] if original else [])


def done(text: str) -> str:
    """A status area's message for an action that worked."""
    return f"✔ {text}"


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A failure becomes a Gradio message in Japanese instead of a stack trace (for
    handlers without a status area of their own; ``_reports_to`` is the better way)."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            import gradio as gr

            raise gr.Error(_said(exc)[0], title="できませんでした") from exc

    return wrapped


def _reports_to(status: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A handler whose failure is said in ``status`` (a Markdown) and changes nothing else:
    Gradio updates only the components of a returned dict, so tables keep their rows."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return {status: failure(exc)}

        return wrapped

    return wrap


def _progress_reporter(progress: Any) -> Reporter:
    """Gradio's progress overlay. With no total (a CSV's rows are not known before it is
    read) Gradio shows only the count and its unit, so the unit says what is counted:
    「12 件目の文書を処理中 | 4.3s」."""
    return lambda n, desc: progress((n, None), desc=desc, unit="件目の文書を処理中")


ADMIN_CSS = """
.status { min-height: 4em; }
.status details { margin-top: .4em; font-size: .9em; color: var(--body-text-color-subdued); }
.status summary { cursor: pointer; }
"""


def build_admin(actions: AdminActions) -> Any:
    """The Gradio Blocks of the staff screen: the five tabs, then what loads on opening."""
    import gradio as gr

    town = actions.settings.widget.town
    with gr.Blocks(title=f"madoguchi 管理画面 — {town}", analytics_enabled=False) as blocks:
        gr.Markdown(
            f"# madoguchi 管理画面 — {town}\n"
            "資料の取り込みと削除、質問のお試し、言い換え辞書と翻訳の手直し、会話ログ・利用状況・定期更新の確認、"
            "住民からの問い合わせへの返信ができます。"
            " [ログアウト](/logout)"
        )
        sources = _documents_tab(actions)
        _try_tab(actions)
        synonyms = _synonyms_tab(actions)
        translations = _translations_tab(actions)
        log = _log_tab(actions)
        inbox_tab(actions)  # residents' messages to staff (ui/admin_inbox.py)
        usage_tab(actions, blocks)  # 利用状況 and the improvement loop (ui/admin_usage.py)
        schedule_tab(actions.settings, blocks)  # ui/admin_schedule.py: 定期更新
        for on_open in (sources, log, synonyms, translations):
            blocks.load(on_open.fn, on_open.inputs, on_open.outputs)
    return blocks


def _status() -> Any:
    """A tab's status area: what the last action did, or why it could not. Made before
    the tab's layout (its handlers name it) and placed with ``.render()``."""
    import gradio as gr

    return gr.Markdown(elem_classes=["status"], render=False)


def _documents_tab(actions: AdminActions) -> OnOpen:
    """Upload and ingest (with progress and 中止), re-sync, list and remove sources."""
    import gradio as gr

    ingest_out = _status()
    remove_out = _status()

    @_reports_to(ingest_out)
    def do_upload(files: list[Any] | None, progress: Any = gr.Progress()) -> tuple[str, Any]:  # noqa: B008
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        text = actions.upload_and_ingest(paths, _progress_reporter(progress))
        return text, actions.sources()

    @_reports_to(ingest_out)
    def do_resync(progress: Any = gr.Progress()) -> tuple[str, Any]:  # noqa: B008
        return actions.resync(_progress_reporter(progress)), actions.sources()

    @_reports_to(ingest_out)
    def do_cancel(shown: str) -> tuple[str, Any]:
        return actions.cancel_ingest(), actions.sources(shown)

    @_reports_to(remove_out)
    def do_remove(source: str, shown: str) -> tuple[str, Any]:
        return done(actions.remove(source)), actions.sources(shown)

    @_reports_to(ingest_out)
    def do_sources(shown: str) -> tuple[Any, Any]:
        return gr.skip(), actions.sources(shown)

    def pick_source(evt: Any) -> str:
        row = getattr(evt, "row_value", None)
        return str(row[0]) if row else ""

    # Gradio finds the event argument by its annotation (a string here, because of
    # ``from __future__ import annotations`` and the local import)
    pick_source.__annotations__["evt"] = gr.SelectData

    with gr.Tab("資料"):
        gr.Markdown(
            "FAQ の CSV、PDF、Word・Excel・PowerPoint、HTML、テキストのファイルを選んで"
            "「取り込む」を押します。同じ名前のファイルは新しい内容に置き換わります。"
        )
        files = gr.File(label="取り込むファイル（いくつでも）", file_count="multiple")
        with gr.Row():
            upload_btn = gr.Button("取り込む", variant="primary")
            resync_btn = gr.Button("アップロード済みの資料を読み直す（再同期）")
            cancel_btn = gr.Button("中止", variant="stop")
        ingest_out.render()
        with gr.Row():
            shown = gr.Textbox(
                label="絞り込み（出典や題名の一部）", placeholder="例: faq.csv、ごみ", scale=3
            )
            refresh_btn = gr.Button("一覧を更新", scale=1)
        sources = gr.Dataframe(
            headers=SOURCE_COLUMNS,
            label="索引にある出典（行をクリックすると、下の削除欄に入ります）",
            interactive=False,
            wrap=True,
            max_height=420,
            column_widths=["30%", "8%", "9%", "38%", "15%"],
        )
        with gr.Row():
            remove_box = gr.Textbox(label="削除する出典（ファイル名なら、その行すべて）", scale=3)
            remove_btn = gr.Button("削除", variant="stop", scale=1)
        remove_out.render()
        # the progress shows in the status area; the table stays readable meanwhile
        upload_evt = upload_btn.click(
            do_upload, [files], [ingest_out, sources], show_progress_on=[ingest_out]
        )
        resync_evt = resync_btn.click(
            do_resync, None, [ingest_out, sources], show_progress_on=[ingest_out]
        )
        cancel_btn.click(
            do_cancel, [shown], [ingest_out, sources], cancels=[upload_evt, resync_evt]
        )
        refresh_btn.click(do_sources, [shown], [ingest_out, sources])
        shown.submit(do_sources, [shown], [ingest_out, sources])
        remove_btn.click(do_remove, [remove_box, shown], [remove_out, sources])
        sources.select(pick_source, None, [remove_box])
    return OnOpen(do_sources, [shown], [ingest_out, sources])


def _lang_choices(actions: AdminActions, first: tuple[str, str]) -> list[tuple[str, str]]:
    return [first, *((LANG_NAMES.get(c, c), c) for c in actions.settings.widget.languages)]


def _try_tab(actions: AdminActions) -> None:
    """A question answered as residents would get it, with the passages behind it; the
    scores of each search and the timings in the 詳細 fold."""
    import gradio as gr

    status = _status()

    @_reports_to(status)
    def do_try(question: str, lang: str) -> tuple[Any, ...]:
        r = actions.try_question_full(question, None if lang == "auto" else lang)
        return "", r.answer, r.rows, r.details, r.detail_rows

    with gr.Tab("質問を試す"):
        gr.Markdown(
            "住民が受け取るのと同じ答えを確かめられます。ここで試した質問は会話ログに残りません。"
        )
        with gr.Row():
            question = gr.Textbox(label="質問", scale=4)
            lang = gr.Dropdown(
                _lang_choices(actions, (AUTO_LANG, "auto")), value="auto", label="言語", scale=1
            )
        try_btn = gr.Button("答えを見る", variant="primary")
        status.render()
        answer = gr.Markdown()
        hits = gr.Dataframe(
            headers=HIT_COLUMNS,
            label="答えのもとになった文章（近い順）",
            interactive=False,
            wrap=True,
            column_widths=["6%", "18%", "20%", "7%", "49%"],
        )
        with gr.Accordion("詳細（検索の点数と時間）", open=False):
            details = gr.Markdown()
            detail_hits = gr.Dataframe(headers=HIT_DETAIL_COLUMNS, interactive=False, wrap=True)
        outputs = [status, answer, hits, details, detail_hits]
        try_btn.click(do_try, [question, lang], outputs)
        question.submit(do_try, [question, lang], outputs)


def _synonyms_tab(actions: AdminActions) -> OnOpen:
    """The town's synonym list, and words of unanswered questions that no document uses."""
    import gradio as gr

    status = _status()
    suggest_status = _status()

    @_reports_to(status)
    def do_synonyms() -> tuple[Any, str]:
        return gr.skip(), actions.synonyms_text()

    @_reports_to(status)
    def do_save_synonyms(text: str) -> str:
        return done(actions.save_synonyms(text))

    @_reports_to(suggest_status)
    def do_suggest() -> tuple[str, list[list[Any]]]:
        rows = actions.synonym_suggestions()
        return ("" if rows else "候補はありません。"), rows

    with gr.Tab("言い換え"):
        gr.Markdown(
            "住民の言い方と資料の言い方が違う語を、1 行に 1 グループ、カンマ区切りで書きます"
            "（例: `スマホ, スマートフォン, 携帯電話`）。質問にどれかの語があると、"
            "ほかの語でも探します。回答できなかった質問（会話ログ）を見て足してください。"
        )
        syn_text = gr.Textbox(label="言い換え辞書", lines=14, max_lines=40)
        syn_btn = gr.Button("保存", variant="primary")
        status.render()
        syn_btn.click(do_save_synonyms, [syn_text], [status])
        gr.Markdown(
            "回答できなかった質問のうち、どの資料にも出てこない語と、意味の近い見出し"
            "（品目名・FAQ の質問）です。資料での言い方が分かれば、上に 1 行足してください。"
        )
        suggest_btn = gr.Button("言い換えの候補を出す（会話ログから）")
        suggest_status.render()
        suggestions = gr.Dataframe(
            headers=SUGGESTION_COLUMNS,
            label="資料にない語",
            interactive=False,
            wrap=True,
        )
        suggest_btn.click(do_suggest, None, [suggest_status, suggestions])
    return OnOpen(do_synonyms, None, [status, syn_text])


def _translations_tab(actions: AdminActions) -> OnOpen:
    """Machine translations of the FAQ (``madoguchi translate``): approve, edit or reject."""
    import gradio as gr

    result = _status()

    @_reports_to(result)
    def do_list(which: str, lang: str) -> tuple[Any, Any]:
        return gr.skip(), actions.translations(which, "" if lang == "all" else lang)

    @_reports_to(result)
    def do_pick(evt: Any) -> tuple[Any, ...]:
        row = getattr(evt, "row_value", None) or ["", ""]
        sid, lang = str(row[0]), str(row[1])
        lang = next((c for c, n in LANG_NAMES.items() if n == lang), lang)
        q, a, ja = actions.translation(sid, lang)
        return "", sid, lang, ja, q, a

    do_pick.__annotations__["evt"] = gr.SelectData  # as pick_source in the documents tab

    def decide(action: str) -> Callable[..., tuple[str, Any]]:
        @_reports_to(result)
        def run(sid: str, lang: str, q: str, a: str, which: str, shown: str) -> tuple[str, Any]:
            msg = actions.decide_translation(sid, lang, q, a, action)
            return done(msg), actions.translations(which, "" if shown == "all" else shown)

        return run

    langs = [code for code in actions.settings.widget.languages if code != "ja"]
    with gr.Tab("翻訳"):
        gr.Markdown(
            "`madoguchi translate` が作った FAQ の機械翻訳です。住民への回答には"
            "「機械翻訳」と表示されます。内容を確かめ、必要なら直して承認してください。"
            "却下した翻訳は使われません（日本語の原文が変わると翻訳し直します）。"
            "送られるのは公開 FAQ の本文だけで、住民の質問は送られません。"
        )
        with gr.Row():
            which = gr.Radio(list(TRANSLATION_FILTERS), value="確認待ち", label="表示", scale=3)
            lang = gr.Dropdown(
                [(ALL_LANGS, "all"), *((LANG_NAMES.get(c, c), c) for c in langs)],
                value="all",
                label="言語",
                scale=1,
            )
            list_btn = gr.Button("表示", scale=1)
        table = gr.Dataframe(
            headers=TRANSLATION_COLUMNS,
            label="機械翻訳（行をクリックすると、下で直せます）",
            interactive=False,
            wrap=True,
            max_height=420,
        )
        with gr.Row():
            sid = gr.Textbox(label="出典", interactive=False, scale=2)
            code = gr.Textbox(label="言語コード", interactive=False, scale=1)
        japanese = gr.Markdown()
        question = gr.Textbox(label="翻訳した質問", lines=2)
        answer = gr.Textbox(label="翻訳した回答", lines=6)
        with gr.Row():
            approve_btn = gr.Button("承認", variant="primary")
            reject_btn = gr.Button("却下", variant="stop")
        result.render()
        list_btn.click(do_list, [which, lang], [result, table])
        which.change(do_list, [which, lang], [result, table])
        lang.change(do_list, [which, lang], [result, table])
        table.select(do_pick, None, [result, sid, code, japanese, question, answer])
        inputs = [sid, code, question, answer, which, lang]
        approve_btn.click(decide("approve"), inputs, [result, table])
        reject_btn.click(decide("reject"), inputs, [result, table])
    return OnOpen(do_list, [which, lang], [result, table])


def _log_tab(actions: AdminActions) -> OnOpen:
    """The conversation log (all, refused, thumbs-down) and the unanswered questions as CSV."""
    import gradio as gr

    status = _status()

    @_reports_to(status)
    def do_logs(which: str) -> tuple[str, Any]:
        return actions.log_summary(), actions.logs(which)

    @_reports_to(status)
    def do_export() -> tuple[Any, str]:
        return gr.skip(), actions.export_unanswered()

    with gr.Tab("会話ログ"):
        with gr.Row():
            which = gr.Radio(list(LOG_FILTERS), value="すべて", label="表示", scale=3)
            log_btn = gr.Button("表示", scale=1)
        status.render()
        turns = gr.Dataframe(
            headers=LOG_COLUMNS,
            label="住民とのやりとり（新しい順）",
            interactive=False,
            wrap=True,
            max_height=600,
            column_widths=LOG_WIDTHS,
            elem_classes=["log-table"],
        )
        log_btn.click(do_logs, [which], [status, turns])
        which.change(do_logs, [which], [status, turns])
        gr.Markdown(
            "回答できなかった質問と 👎 の質問を CSV で書き出し、新しい FAQ づくりに使えます。"
        )
        export_btn = gr.Button("回答できなかった質問を CSV で書き出す")
        export_file = gr.File(label="CSV", interactive=False, height=90)
        export_btn.click(do_export, None, [status, export_file])
    return OnOpen(do_logs, [which], [status, turns])


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
        css=ADMIN_CSS,
        max_file_size=settings.server.max_upload_bytes,
        allowed_paths=[],
        blocked_paths=[str(Path(settings.data_dir).resolve())],
    )
    # Before an event runs, Gradio copies each file its data names into the temp folder,
    # and refuses a file that was not uploaded there only once the Blocks "has launched";
    # a mounted Blocks never launches, so without this any server path would be copied in.
    blocks.has_launched = True
    return actions
