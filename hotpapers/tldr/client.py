"""One chat completion per paper from an OpenAI-compatible endpoint, politely and within caps.

Every HTTP attempt first reserves, in the spend ledger, one request of the day's
`max_requests_per_day` and the most it can cost (the prompt's estimated tokens and
`max_answer_tokens`) of `max_spend_usd_per_day` (`DailyCap`); the answer's `usage` settles it
to what it cost. An attempt the server refused (429, 5xx, 4xx) costs nothing but counts as a
request; one that got no answer in time keeps its reservation (it may have been billed);
one never sent (no connection) gives both back. Retries follow the shared policy
(`hotpapers.plumbing.retry`): bounded, with back-off, honouring Retry-After up to
`max_wait_seconds`.
Bodies are read with a cap (`hotpapers.plumbing.http_body`). The key travels only in the
Authorization header and is never part of a message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import aiohttp
from sqlalchemy import Engine

from hotpapers.plumbing.http_body import BodyTooLarge, read_capped
from hotpapers.plumbing.retry import (
    CONNECT_TIMEOUT,
    Reachability,
    Unreachable,
    backoff_delay,
    parse_retry_after,
    wait_too_long,
)
from hotpapers.storage import spend
from hotpapers.storage.db import transaction
from hotpapers.tldr.settings import TldrSettings
from hotpapers.tldr.text import (
    SYSTEM_PROMPT,
    Refused,
    checked,
    estimated_prompt_tokens,
    user_prompt,
)

log = logging.getLogger(__name__)

SPEND_SERVICE = "tldr"
MAX_BODY_BYTES = 1 << 20  # a one-sentence answer is a few hundred bytes
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "hotpapers (+https://github.com/hotpapers) tldr"


class TldrError(Exception):
    """No usable TL;DR for this paper; `str()` is a clause for the log."""


class StopAsking(TldrError):
    """Asking again today would fail too (cap reached, key refused, a wait too long)."""


@dataclass(frozen=True)
class Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    counted: bool = True  # False: the answer had no usable `usage`


class DailyCap:
    """The day's requests and money for TL;DRs in the ledger, shared by every process."""

    def __init__(self, engine: Engine, day: date, config: TldrSettings) -> None:
        self.engine, self.day, self.config = engine, day, config
        self.cap = spend.to_micros(config.max_spend_usd_per_day)
        self.requests = 0  # attempts this run sent
        self.spent = 0  # micro-dollars this run's answers cost

    def cost(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Micro-dollars for the tokens, rounded up."""
        usd = (
            prompt_tokens * self.config.price_per_1k_prompt_tokens_usd
            + completion_tokens * self.config.price_per_1k_completion_tokens_usd
        ) / 1000
        return math.ceil(usd * spend.MICROS_PER_USD)

    async def reserve(self, amount: int) -> bool:
        return await asyncio.to_thread(
            spend.reserve, self.engine, SPEND_SERVICE, self.day, amount, self.cap,
            units=1, max_units=self.config.max_requests_per_day,
        )  # fmt: skip

    async def settle(self, reserved: int, used: int, *, sent: bool) -> None:
        if sent:
            self.requests += 1
            self.spent += used
        if used != reserved or not sent:
            await asyncio.to_thread(self._settle, reserved, used, 0 if sent else -1)

    def _settle(self, reserved: int, used: int, units: int) -> None:
        with transaction(self.engine) as session:
            spend.settle(
                session, SPEND_SERVICE, self.day, reserved=reserved, used=used, units=units
            )


class TldrClient:
    """Asks for one paper's TL;DR; `summarise` returns an Answer or raises TldrError."""

    def __init__(self, config: TldrSettings, session: aiohttp.ClientSession, cap: DailyCap) -> None:
        self.config, self.session, self.cap = config, session, cap
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self.reachability = Reachability("the TL;DR endpoint")

    def _key(self) -> str:
        return self.config.api_key.get_secret_value() if self.config.api_key else ""

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key()}", "User-Agent": USER_AGENT}

    async def summarise(self, title: str, abstract: str) -> Answer:
        body = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(title, abstract)},
            ],
            "max_tokens": self.config.max_answer_tokens,
            "temperature": 0.2,
        }
        most = self.cap.cost(
            estimated_prompt_tokens(title, abstract), self.config.max_answer_tokens
        )
        attempt = 0
        while True:
            if self.reachability.reason:
                raise StopAsking(self.reachability.reason)
            if not await self.cap.reserve(most):
                raise StopAsking("the daily requests or spend cap for TL;DRs is reached")
            retry_in, problem = await self._attempt(body, most)
            if isinstance(retry_in, Answer):
                return retry_in
            if attempt >= self.config.max_retries:
                tries = "attempt" if attempt == 0 else "attempts"
                raise TldrError(f"{problem} after {attempt + 1} {tries}")
            delay = retry_in if retry_in is not None else backoff_delay(attempt + 1, 1.0)
            if delay > self.config.max_wait_seconds:
                raise StopAsking(f"{problem}; {wait_too_long(delay, self.config.max_wait_seconds)}")
            attempt += 1
            await asyncio.sleep(delay)

    async def _attempt(self, body: dict[str, Any], reserved: int) -> tuple[Any, str]:
        """One request: (Answer, "") or (seconds to wait or None, the problem) to retry;
        raises TldrError when retrying cannot help."""
        try:
            status, headers, raw = await self._post(body)
        except TimeoutError:
            await self.cap.settle(reserved, reserved, sent=True)  # it may have been billed
            return None, f"no answer within {self.config.request_timeout:g} s"
        except TldrError:  # an answer too large to read: billed or not, unknown
            await self.cap.settle(reserved, reserved, sent=True)
            raise
        except aiohttp.ClientError as exc:
            # Sent or not: a reset after sending is possible, but then nothing was answered.
            await self.cap.settle(reserved, 0, sent=False)
            log.debug("tldr: connection failed", exc_info=exc)
            problem = "the connection failed" + (
                " (the server closed it)" if isinstance(exc, aiohttp.ServerDisconnectedError)
                else ""
            )  # fmt: skip
            if self.reachability.give_up(time.monotonic(), 0.0, problem):
                raise Unreachable(self.reachability.reason or problem) from None
            return None, problem
        self.reachability.answer()
        if status >= 400:
            await self.cap.settle(reserved, 0, sent=True)
            problem = f"HTTP {status}{_error_message(raw, self._key())}"
            if status in (401, 403):
                raise StopAsking(f"{problem}: the endpoint refused the key")
            if status not in RETRY_STATUSES:
                raise TldrError(problem)
            return parse_retry_after(headers.get("Retry-After")), problem
        try:
            answer = _parse(raw)
        except TldrError:
            await self.cap.settle(reserved, reserved, sent=True)  # billed or not: unknown
            raise
        # No usage in the answer: count what was reserved (over-count, never under-count).
        used = self.cap.cost(answer.prompt_tokens, answer.completion_tokens)
        used = used if answer.counted else reserved
        await self.cap.settle(reserved, used, sent=True)
        return _shown(answer), ""

    async def _post(self, body: dict[str, Any]) -> tuple[int, Any, bytes]:
        timeout = aiohttp.ClientTimeout(
            total=self.config.request_timeout,
            sock_connect=min(self.config.request_timeout, CONNECT_TIMEOUT),
        )
        async with self.session.post(
            self.url, json=body, headers=self._headers(), timeout=timeout
        ) as response:
            try:
                raw = await read_capped(response, MAX_BODY_BYTES)
            except BodyTooLarge as exc:
                raise TldrError(f"an answer {exc}") from None
            return response.status, response.headers, raw


def _error_message(raw: bytes, key: str) -> str:
    """` (the API's error message)` when the body has one, cut short, without the key (an
    API that echoes the key it was given must not put it in our log)."""
    try:
        message = " ".join(str(json.loads(raw)["error"]["message"]).split())
    except (ValueError, KeyError, TypeError):
        return ""
    if key:
        message = message.replace(key, "********")
    return f" ({message[:120]})"


def _parse(raw: bytes) -> Answer:
    """The answer's text and token counts, or TldrError naming what is missing."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        start = " ".join(raw[:60].decode("utf-8", "replace").split())
        raise TldrError(f"the answer is not JSON (it starts {start!r})") from None
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise TldrError("the answer has no choices[0].message.content") from None
    if not isinstance(content, str):
        raise TldrError("choices[0].message.content is not text")
    if choice.get("finish_reason") == "length":
        raise TldrError("the answer was cut off at max_answer_tokens")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
    if prompt is None or completion is None:
        return Answer(content, 0, 0, counted=False)
    return Answer(content, prompt, completion)


def _count(usage: dict[str, Any], key: str) -> int | None:
    value = usage.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _shown(answer: Answer) -> Answer:
    try:
        return replace(answer, text=checked(answer.text))
    except Refused as exc:
        raise TldrError(str(exc)) from None
