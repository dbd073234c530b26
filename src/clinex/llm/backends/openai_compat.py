"""Any OpenAI-compatible chat server: vLLM, Ollama, llama.cpp's server, TGI, hosted APIs.

Structured output is asked for with ``response_format``: ``"json_schema"`` (OpenAI, vLLM,
Ollama, TGI) or ``"json_object"`` with a ``schema`` field (llama.cpp's servers). Requests
time out, are retried with exponential backoff on 429/5xx and connection failures (honouring
``Retry-After``), and at most ``max_concurrency`` run at once across threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from clinex.core.config import option
from clinex.core.errors import BackendError, ConfigError, ContextLengthError
from clinex.llm.base import Message

StructuredMode = Literal["json_schema", "json_object", "none"]
_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Longest wait we accept from a server's Retry-After, so a batch never stalls for minutes.
_MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True, kw_only=True)
class OpenAIConfig:
    """Options of the ``openai`` backend."""

    base_url: str = option("", "the server's URL ending in /v1, e.g. http://127.0.0.1:8000/v1")
    model: str | None = option(None, "the model name on the server (default: the first it lists)")
    api_key: str | None = option(None, "API key (default: $CLINEX_LLM_API_KEY, then $OPENAI_API_KEY)")
    timeout: float = option(120.0, "seconds to wait for one answer")
    max_retries: int = option(3, "retries on 429/5xx and connection failures")
    backoff: float = option(1.0, "first retry delay in seconds, doubled each retry")
    max_concurrency: int = option(4, "requests in flight at once, across threads")
    structured: str = option(
        "json_schema", "json_schema (OpenAI, vLLM, Ollama, TGI), json_object (llama.cpp servers) or none"
    )


class OpenAICompatBackend:
    """Chat completions from ``{base_url}/chat/completions`` (``base_url`` ends in ``/v1``).

    Options are those of :class:`OpenAIConfig`; ``transport`` (an httpx transport) and
    ``sleep`` (how retries wait) are for tests.
    """

    name = "openai.v1"
    Config = OpenAIConfig

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_concurrency: int = 4,
        structured: str = "json_schema",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url:
            raise ConfigError(
                "the openai backend needs base_url", hint="e.g. base_url='http://127.0.0.1:8000/v1'"
            )
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url {base_url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8000/v1"
            )
        if structured not in ("json_schema", "json_object", "none"):
            raise ConfigError(f"structured={structured!r}", hint="use json_schema, json_object or none")
        if max_retries < 0 or max_concurrency < 1 or timeout <= 0:
            raise ConfigError("max_retries must be ≥ 0, max_concurrency ≥ 1 and timeout > 0")
        self.base_url = base_url.rstrip("/")
        self.structured: StructuredMode = structured  # type: ignore[assignment]  # checked above
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        key = api_key or os.environ.get("CLINEX_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        # Close pooled connections when the backend is dropped, even if close() is never called.
        self._finalizer = weakref.finalize(self, self._client.close)
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._model = model

    @property
    def model(self) -> str:
        """The model asked for: the one given, else the first the server lists."""
        if self._model is None:
            listing = self._request("GET", "/models").json()
            models = listing.get("data") if isinstance(listing, dict) else None
            if not models or not isinstance(models[0], dict) or "id" not in models[0]:
                raise BackendError(f"{self.base_url}/models lists no model", hint="pass model=... explicitly")
            self._model = str(models[0]["id"])
        return self._model

    def generate(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if seed is not None:
            payload["seed"] = seed
        if json_schema is not None and self.structured == "json_schema":
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "clinex_entities", "schema": json_schema, "strict": True},
            }
        elif json_schema is not None and self.structured == "json_object":
            payload["response_format"] = {"type": "json_object", "schema": json_schema}
        data = self._request("POST", "/chat/completions", json=payload).json()
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.base_url}/chat/completions answered without a choice") from None
        if message.get("refusal") or choice.get("finish_reason") == "content_filter":
            raise BackendError(
                f"the model at {self.base_url} refused to answer",
                hint="check the server's content filter or use another model",
            )
        content = message.get("content")
        return content if isinstance(content, str) else ""

    def close(self) -> None:
        """Close the connection pool (also done when the backend is garbage-collected)."""
        self._finalizer()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        with self._slots:
            for attempt in range(self.max_retries + 1):
                last = attempt == self.max_retries
                try:
                    response = self._client.request(method, url, **kwargs)
                except httpx.TimeoutException:
                    if last:
                        raise BackendError(
                            f"{url} did not answer within {self.timeout:g} s ({attempt + 1} attempts)",
                            hint="raise timeout=..., lower max_tokens, or check the server's load",
                        ) from None
                    self._wait(attempt, None)
                    continue
                except httpx.TransportError as exc:
                    if last:
                        raise BackendError(
                            f"cannot reach {url}: {type(exc).__name__} ({attempt + 1} attempts)",
                            hint="is the server running and base_url right (it ends in /v1)?",
                        ) from None
                    self._wait(attempt, None)
                    continue
                if response.status_code < 400:
                    return response
                if response.status_code in _RETRY_STATUS and not last:
                    self._wait(attempt, response.headers.get("retry-after"))
                    continue
                raise _status_error(url, response, attempt + 1)
        raise AssertionError("unreachable: the loop returns or raises")

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2**attempt
        if retry_after:
            # An HTTP date (ValueError) keeps our own backoff.
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(retry_after), _MAX_RETRY_AFTER_S))
        self._sleep(delay)


def _status_error(url: str, response: httpx.Response, attempts: int) -> BackendError:
    # The body may echo the prompt (note text), so it is only searched, never quoted.
    body = response.text.lower()
    if response.status_code == 400 and ("context" in body or "too long" in body or "maximum" in body):
        return ContextLengthError(
            f"{url}: the prompt is longer than the model's context window",
            hint="lower chunk_chars so each piece of the note fits",
        )
    hints = {
        401: "set api_key or CLINEX_LLM_API_KEY",
        403: "the key may lack access to this model",
        404: "check base_url (it ends in /v1) and the model name",
        429: "the server is rate limiting: lower max_concurrency or raise max_retries",
    }
    return BackendError(
        f"{url} answered HTTP {response.status_code} after {attempts} attempt(s)",
        hint=hints.get(response.status_code, "see the server's log"),
    )
