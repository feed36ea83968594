"""The fake chat completions server: routes, the default answer, faults."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hotpapers.fakes._server import LocalServer

FAULT_KINDS = (
    "timeout",
    "429",
    "500",
    "not_json",
    "no_choices",
    "empty_content",
    "long_answer",
)
_TITLE = re.compile(r"^Title:\s*(.+)$", re.MULTILINE)


@dataclass
class Fault:
    kind: str
    times: int | None = 1  # None: every request
    retry_after: float = 1.0  # seconds, for "429"
    delay: float = 30.0  # seconds without an answer, for "timeout"
    used: int = 0


@dataclass
class ChatRequest:
    """One request as the fake received it."""

    authorization: str | None
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    fault: str | None = None
    usage: dict[str, int] = field(default_factory=dict)  # what the answer billed

    @property
    def user_text(self) -> str:
        messages = self.body.get("messages") or []
        return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")


def default_answer(request: ChatRequest) -> str:
    """A deterministic one-sentence summary naming the paper's title."""
    found = _TITLE.search(request.user_text)
    title = found.group(1).strip().rstrip(".") if found else "this paper"
    return f"The paper “{title}” shows a simple idea that works better than expected."


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeOpenAI(LocalServer):
    """`POST /v1/chat/completions`; `base_url` ends in /v1 as OpenAI's does."""

    prefix = "/v1"

    def __init__(
        self,
        api_key: str | None = "sk-fake-key",
        answer: Callable[[ChatRequest], str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.answer = answer or default_answer
        self.requests: list[ChatRequest] = []
        self.faults: list[Fault] = []

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    def fail(
        self,
        kind: str,
        *,
        times: int | None = 1,
        retry_after: float = 1.0,
        delay: float = 30.0,
    ) -> Fault:
        """Serve fault `kind` for the next `times` requests (None: all of them)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(kind, times, retry_after, delay)
        self.faults.append(fault)
        return fault

    def _take_fault(self) -> Fault | None:
        for fault in self.faults:
            if fault.times is None or fault.used < fault.times:
                fault.used += 1
                return fault
        return None

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        entry = ChatRequest(request.headers.get("Authorization"), body)
        self.requests.append(entry)
        if self.api_key is not None and entry.authorization != f"Bearer {self.api_key}":
            # Worse than the real API, which masks most of it: the whole key is echoed, so
            # tests show the client never lets a key in an error message reach the log.
            presented = (entry.authorization or "").removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {presented}.", "invalid_api_key")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return _error(400, "you must provide a model parameter and messages")
        fault = self._take_fault()
        if fault is not None:
            entry.fault = fault.kind
            early = await _fault_response(fault)
            if early is not None:
                return early
        content = self.answer(entry)
        if fault is not None and fault.kind == "long_answer":
            content = ("This paper does many things. " * 200)[:5000]
        if fault is not None and fault.kind == "empty_content":
            content = ""
        choices = [] if fault is not None and fault.kind == "no_choices" else [_choice(content)]
        return web.json_response(_completion(body, entry, content, choices))


async def _fault_response(fault: Fault) -> web.StreamResponse | None:
    """The answer a fault serves instead of a completion (None: a damaged completion)."""
    if fault.kind == "timeout":
        await asyncio.sleep(fault.delay)
        return _error(504, "timed out")
    if fault.kind == "429":
        response = _error(429, "Rate limit reached for requests", "rate_limit_exceeded")
        response.headers["Retry-After"] = f"{fault.retry_after:g}"
        return response
    if fault.kind == "500":
        return _error(500, "The server had an error while processing your request.")
    if fault.kind == "not_json":
        return web.Response(text="upstream connect error or disconnect/reset before headers")
    return None


def _choice(content: str) -> dict[str, Any]:
    return {
        "index": 0,
        "message": {"role": "assistant", "content": content},
        "logprobs": None,
        "finish_reason": "stop",
    }


def _completion(
    body: dict[str, Any], entry: ChatRequest, content: str, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    prompt = _tokens(json.dumps(body.get("messages")))
    completion = _tokens(content) if choices else 0
    entry.usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    return {
        "id": f"chatcmpl-fake{len(entry.user_text)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model")),
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _error(status: int, message: str, code: str | None = None) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(payload, status=status)
