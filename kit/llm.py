"""An optional OpenAI-compatible chat model (Ollama, vLLM, llama.cpp server, Azure OpenAI).

Built from the ``llm`` settings (``MADOGUCHI_LLM__BASE_URL``, ``__MODEL``,
``__API_KEY``, ``__TIMEOUT``); no base URL means no LLM and the kit answers
extractively. The client is LangChain's ``ChatOpenAI`` with retries off: a slow
or failing server must fall back to the extractive answer within the timeout,
not be asked again. Every failure surfaces as :class:`~kit.errors.ModelUnavailable`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from madoguchi.kit.config import LLMSettings
from madoguchi.kit.errors import ModelUnavailable

log = logging.getLogger(__name__)

Message = tuple[str, str]  # (role: "system" | "user" | "assistant", content)


class LLMClient:
    """Chat completions from one OpenAI-compatible endpoint; the model is built on first use."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.base_url:
            raise ValueError("an LLM client needs a base URL")
        self.settings = settings
        self._chat: Any = None

    @property
    def timeout(self) -> float:
        return float(self.settings.timeout)

    def _model(self) -> Any:
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(
                model=self.settings.model,
                base_url=self.settings.base_url,
                # local servers (Ollama, vLLM, llama.cpp) accept any key
                api_key=self.settings.api_key or "not-needed",  # type: ignore[arg-type]
                timeout=self.timeout,
                max_retries=0,
                temperature=0.0,
            )
        return self._chat

    def complete(self, messages: Sequence[Message]) -> str:
        """The whole reply; ModelUnavailable on a timeout, an HTTP error or no text."""
        t0 = time.perf_counter()
        try:
            reply = self._model().invoke(list(messages))
        except Exception as exc:
            raise ModelUnavailable(f"LLM request failed: {_reason(exc)}") from exc
        text = _content(reply)
        log.info("llm reply in %.0f ms (%d chars)", (time.perf_counter() - t0) * 1000, len(text))
        if not text.strip():
            raise ModelUnavailable("LLM returned an empty reply")
        return text

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """Text pieces as the server sends them; ModelUnavailable on failure or when the
        whole reply takes longer than the timeout (a server trickling tokens)."""
        deadline = time.monotonic() + self.timeout
        try:
            for chunk in self._model().stream(list(messages)):
                piece = _content(chunk)
                if piece:
                    yield piece
                if time.monotonic() > deadline:
                    raise ModelUnavailable(f"LLM reply took longer than {self.timeout:g} s")
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(f"LLM request failed: {_reason(exc)}") from exc


def _content(msg: Any) -> str:
    content = getattr(msg, "content", msg)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    return f"{name} (HTTP {status})" if status else name


def build_llm(settings: LLMSettings) -> LLMClient | None:
    """The configured LLM, or None when no base URL is set (extractive answers only)."""
    if not settings.base_url:
        return None
    return LLMClient(settings)
