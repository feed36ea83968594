"""A local fake of an OpenAI-compatible chat completions API, for tests and `hotpapers demo`.

`FakeOpenAI` serves `POST /v1/chat/completions` in the real wire format (the request's
`model`, `messages`, `max_tokens`; an answer with `choices[0].message.content`,
`finish_reason` and `usage`), checks the bearer key, records every request, and serves
faults on demand with `fail(kind, times=..., retry_after=..., delay=...)`: "timeout" (no
answer for `delay` seconds), "429" (with Retry-After), "500", "not_json", "no_choices",
"empty_content" and "long_answer" (5,000 characters).
"""

from hotpapers.fakes.openai._server import FAULT_KINDS, ChatRequest, FakeOpenAI, Fault

__all__ = ["FAULT_KINDS", "ChatRequest", "FakeOpenAI", "Fault"]
