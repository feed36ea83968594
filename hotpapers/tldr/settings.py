"""The `[tldr]` section: off by default; the key only from the environment or secrets file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class TldrSettings(BaseModel):
    # As hotpapers.config._sections._Section (not imported: hotpapers.config imports this).
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    enabled: bool = False
    # An OpenAI-compatible API: requests go to POST {base_url}/chat/completions.
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    # HOTPAPERS_TLDR__API_KEY (or HOTPAPERS_SECRETS_FILE); sent as a bearer token.
    api_key: SecretStr | None = None
    # How many of the day's top papers get one (ranked as the site's day page ranks them).
    top: int = Field(10, ge=1, le=100)
    # Caps per UTC day, shared by every process through the spend ledger (service "tldr").
    max_requests_per_day: int = Field(50, ge=0)
    max_spend_usd_per_day: float = Field(0.10, ge=0)
    # What the endpoint bills per 1,000 tokens (US dollars), prompt and answer.
    price_per_1k_prompt_tokens_usd: float = Field(0.00015, ge=0)
    price_per_1k_completion_tokens_usd: float = Field(0.0006, ge=0)
    # The longest answer asked for (max_tokens); with the prompt it bounds what is reserved.
    max_answer_tokens: int = Field(120, ge=16, le=1000)
    # Bound on one request (seconds), and retries of a 429 / 5xx / timeout.
    request_timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    # A Retry-After longer than this is not waited for: the run stops asking.
    max_wait_seconds: float = Field(60.0, ge=0)
