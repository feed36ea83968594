"""Discord's wire constants (API v10, interaction and response types, limits, route buckets) and
the validation of the bodies the bot sends, answered as Discord's error JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

API_PREFIX = "/api/v10"


EPHEMERAL = 1 << 6


# Interaction and callback types (Discord's numbers).
APPLICATION_COMMAND = 2


MESSAGE_COMPONENT = 3


AUTOCOMPLETE = 4


CHANNEL_MESSAGE = 4


DEFERRED_CHANNEL_MESSAGE = 5


DEFERRED_UPDATE_MESSAGE = 6


UPDATE_MESSAGE = 7


AUTOCOMPLETE_RESULT = 8


LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field.name": 256,
    "field.value": 1024,
    "footer.text": 2048,
    "author.name": 256,
    "embed_total": 6000,
    "choices": 25,
    "choice.name": 100,
    "custom_id": 100,
    "label": 80,
    "rows": 5,
    "row.components": 5,
    "button.url": 512,
}


LINK_STYLE = 5  # a button that opens its `url`: it has no custom_id and sends no interaction


# Enforced per-route buckets when `route_buckets=True`: (method, path pattern, limit, seconds).
# The pattern's first group is the major parameter (a bucket per channel); the rest of the
# routes share one generous bucket per path. Interaction callbacks and webhook follow-ups
# (interaction tokens) are not bound to the global limit, as on Discord.
ROUTE_BUCKETS: list[tuple[str, re.Pattern[str], int, float]] = [
    ("POST", re.compile(r"^/channels/(\d+)/messages$"), 5, 5.0),
    ("PATCH", re.compile(r"^/channels/(\d+)/messages/\d+$"), 5, 5.0),
    ("DELETE", re.compile(r"^/channels/(\d+)/messages/\d+$"), 5, 1.0),
    ("POST", re.compile(r"^/channels/(\d+)/messages/\d+/threads$"), 5, 5.0),
    ("POST", re.compile(r"^/channels/(\d+)/threads$"), 5, 5.0),
    ("GET", re.compile(r"^/channels/(\d+)/messages$"), 5, 1.0),
    ("GET", re.compile(r"^/channels/(\d+)$"), 5, 1.0),
]


DEFAULT_BUCKET = (50, 1.0)


GLOBAL_EXEMPT = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+)")


class FakeDiscordError(Exception):
    """Raised to a test when the fake cannot do what the test asked (e.g. no answer in time)."""


def option_type(value: object) -> int:
    """Discord's option type for a Python value: boolean 5, integer 4, number 10, string 3."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_object(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


def _too_long(limit: int, got: int) -> dict[str, Any]:
    return {
        "_errors": [
            {
                "code": "BASE_TYPE_MAX_LENGTH",
                "message": f"Must be {limit} or fewer in length. (got {got})",
            }
        ]
    }


def limit_errors(payload: dict[str, Any]) -> dict[str, Any]:
    """Discord's `errors` tree for every limit `payload` (a message body) breaks; {} if none."""
    errors: dict[str, Any] = {}
    content = payload.get("content")
    if isinstance(content, str) and len(content) > LIMITS["content"]:
        errors["content"] = _too_long(LIMITS["content"], len(content))
    embeds = payload.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        errors["embeds"] = _too_long(LIMITS["embeds"], len(embeds))
    total = 0
    for index, embed in enumerate(embeds):
        found, size = _embed_errors(embed)
        total += size
        if found:
            errors.setdefault("embeds", {})[str(index)] = found
    if total > LIMITS["embed_total"]:
        errors.setdefault("embeds", {})["_errors"] = [
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": f"Embed size exceeds maximum size of 6000 (got {total})",
            }
        ]
    errors.update(_component_errors(payload.get("components") or []))
    choices = payload.get("choices")
    if choices is not None:
        if len(choices) > LIMITS["choices"]:
            errors["choices"] = _too_long(LIMITS["choices"], len(choices))
        for index, choice in enumerate(choices):
            name = str(choice.get("name", ""))
            if not 1 <= len(name) <= LIMITS["choice.name"]:
                errors.setdefault("choices", {})[str(index)] = _too_long(
                    LIMITS["choice.name"], len(name)
                )
    return errors


def _embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The limits one embed breaks, and its size towards the 6,000-character total."""
    found: dict[str, Any] = {}
    total = 0
    for key in ("title", "description"):
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > LIMITS[key]:
            found[key] = _too_long(LIMITS[key], len(text))
    for key, sub in (("footer", "text"), ("author", "name")):
        text = (embed.get(key) or {}).get(sub) or ""
        total += len(text)
        if len(text) > LIMITS[f"{key}.{sub}"]:
            found[key] = {sub: _too_long(LIMITS[f"{key}.{sub}"], len(text))}
    fields = embed.get("fields") or []
    if len(fields) > LIMITS["fields"]:
        found["fields"] = _too_long(LIMITS["fields"], len(fields))
    for number, item in enumerate(fields):
        name, value = item.get("name") or "", item.get("value") or ""
        total += len(name) + len(value)
        bad: dict[str, Any] = {}
        if not name.strip() or len(name) > LIMITS["field.name"]:
            bad["name"] = _too_long(LIMITS["field.name"], len(name))
        if not value.strip() or len(value) > LIMITS["field.value"]:
            bad["value"] = _too_long(LIMITS["field.value"], len(value))
        if bad:
            found.setdefault("fields", {})[str(number)] = bad
    return found, total


def _component_errors(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Discord's errors for message components: at most 5 action rows of at most 5 buttons,
    labels and custom ids within their limits, a link button with an http(s) URL and no
    custom id, any other button with a custom id."""
    found: dict[str, Any] = {}

    def bad(where: str, message: str) -> None:
        found.setdefault("components", {})[where] = {
            "_errors": [{"code": "COMPONENT_INVALID", "message": message}]
        }

    if len(rows) > LIMITS["rows"]:
        bad("_root", f"at most {LIMITS['rows']} action rows")
    for row_index, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(items) <= LIMITS["row.components"]:
            bad(str(row_index), "an action row holds 1 to 5 buttons")
        for index, item in enumerate(items):
            where = f"{row_index}.components.{index}"
            custom_id, url = item.get("custom_id") or "", item.get("url") or ""
            if (
                len(custom_id) > LIMITS["custom_id"]
                or len(item.get("label") or "") > LIMITS["label"]
            ):
                bad(where, "label or custom_id too long")
            elif item.get("type") == 2 and item.get("style") == LINK_STYLE:
                web = url.startswith(("https://", "http://"))
                if custom_id or not web or len(url) > LIMITS["button.url"]:
                    bad(where, "a link button needs an http(s) url (max 512) and no custom_id")
            elif item.get("type") == 2 and not custom_id:
                bad(where, "a button needs a custom_id")
    return found


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def command_errors(commands: list[dict[str, Any]]) -> dict[str, Any]:
    """Discord's errors for a bulk overwrite of slash commands breaking the documented limits."""
    errors: dict[str, Any] = {}

    def bad(where: str, message: str) -> None:
        errors[where] = {"_errors": [{"code": "INVALID", "message": message}]}

    if len(commands) > 100:
        bad("_root", "at most 100 commands")
    for index, command in enumerate(commands):
        name = str(command.get("name", ""))
        if not _COMMAND_NAME.match(name) or name != name.lower():
            bad(f"{index}.name", f"invalid command name {name!r}")
        if command.get("type", 1) == 1 and not 1 <= len(command.get("description", "")) <= 100:
            bad(f"{index}.description", "description must be 1-100 characters")
        options = command.get("options") or []
        if len(options) > 25:
            bad(f"{index}.options", "at most 25 options")
        size = len(name) + len(command.get("description", ""))
        for number, option in enumerate(options):
            where = f"{index}.options.{number}"
            option_name = str(option.get("name", ""))
            if not _COMMAND_NAME.match(option_name) or option_name != option_name.lower():
                bad(f"{where}.name", f"invalid option name {option_name!r}")
            if not 1 <= len(option.get("description", "")) <= 100:
                bad(f"{where}.description", "description must be 1-100 characters")
            choices = option.get("choices") or []
            if len(choices) > 25:
                bad(f"{where}.choices", "at most 25 choices")
            if choices and option.get("autocomplete"):
                bad(f"{where}.autocomplete", "autocomplete cannot be combined with choices")
            size += len(option_name) + len(option.get("description", ""))
            size += sum(len(str(c.get("name", ""))) + len(str(c.get("value", ""))) for c in choices)
        if size > 8000:
            bad(f"{index}", "a command's names, descriptions and choices exceed 8000 characters")
    return errors
