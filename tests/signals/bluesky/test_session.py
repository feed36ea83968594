"""Bluesky session: login, credentials, retries, re-login on an expired token, and each
failure as one error."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import pytest
from pydantic import SecretStr

from hotpapers.config import BlueskySettings
from hotpapers.fakes.social import FakeBluesky
from hotpapers.signals.bluesky import PASSWORD_ENV, BlueskySource
from tests.signals.bluesky._support import HANDLE, NOW, PAPERS, PASSWORD, A, B, C, source

FAULTS = [
    ("500", {"times": None}, "HTTP 500"),
    ("html", {}, "HTML page"),
    ("html", {"status": 503, "times": None}, "HTTP 503 with an HTML error page"),
    ("malformed", {}, "malformed JSON"),
    ("missing_fields", {}, "missing or mistyped fields"),
    ("wrong_types", {}, "missing or mistyped fields"),
    ("slow", {"times": None, "delay": 1.0}, "no answer within 0.3 s after 2 attempts"),
]


@pytest.mark.parametrize(("kind", "options", "reason"), FAULTS)
async def test_a_fault_is_one_error_and_the_other_papers_are_measured(
    fake: FakeBluesky, kind: str, options: dict[str, object], reason: str
) -> None:
    fake.fail(kind, match=f"q={A}", **options)  # type: ignore[arg-type]

    result = await source(fake, timeout=0.3, max_retries=1).measure(PAPERS, NOW)

    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"Bluesky search for {A} failed: ")
    assert reason in result.errors[0]
    assert [m.paper_id for m in result.measurements] == [B, C]
    assert result.stopped is None


async def test_429_waits_for_retry_after_then_succeeds(fake: FakeBluesky) -> None:
    fake.fail("429", match=f"q={A}", retry_after=0.3)

    result = await source(fake).measure(PAPERS[:1], NOW)

    assert result.errors == []
    assert result.measurements[0].metrics["posts"] == 3.0
    first, second = fake.requests_to("searchPosts")
    assert first.fault == "429" and second.fault is None
    assert second.at - first.at >= 0.3


@pytest.mark.parametrize(
    ("handle", "password", "names"),
    [
        ("", None, ["signals.bluesky.handle", PASSWORD_ENV]),
        (HANDLE, None, [PASSWORD_ENV]),
        (HANDLE, "", [PASSWORD_ENV]),
        ("", PASSWORD, ["signals.bluesky.handle"]),
    ],
)
async def test_missing_credentials_are_a_problem_sentence(
    fake: FakeBluesky, handle: str, password: str | None, names: list[str]
) -> None:
    settings = BlueskySettings(
        api_url=fake.base_url,
        handle=handle,
        app_password=SecretStr(password) if password is not None else None,
    )
    bsky = BlueskySource(settings)

    problem = bsky.problem()

    assert problem is not None and problem.endswith(".") and problem.count(". ") == 0
    assert all(name in problem for name in names)
    result = await bsky.measure(PAPERS, NOW)
    assert result.measurements == [] and result.errors == [problem]
    assert fake.requests == []


async def test_a_wrong_password_is_a_clear_error_naming_the_setting(fake: FakeBluesky) -> None:
    result = await source(fake, password="wrong-password").measure(PAPERS, NOW)

    assert result.measurements == []
    assert result.errors == [
        f"Bluesky rejected the login for {HANDLE} (HTTP 401 AuthenticationRequired: "
        f"Invalid identifier or password): check {PASSWORD_ENV}."
    ]
    assert result.stopped == "Bluesky rejected the login"
    assert fake.requests_to("searchPosts") == []
    assert PASSWORD not in str(result)


async def test_a_401_on_login_is_reported_the_same_way(fake: FakeBluesky) -> None:
    fake.fail("401", match="createSession")

    result = await source(fake).measure(PAPERS, NOW)

    assert result.measurements == []
    assert result.errors[0].startswith(f"Bluesky rejected the login for {HANDLE} (HTTP 401")
    assert PASSWORD_ENV in result.errors[0]


async def test_a_login_that_keeps_failing_stops_the_run_without_raising(
    fake: FakeBluesky,
) -> None:
    fake.fail("500", match="createSession", times=None)

    result = await source(fake, max_retries=2).measure(PAPERS, NOW)

    assert result.measurements == [] and result.stopped == "Bluesky login failed"
    assert result.errors == [
        f"Bluesky login for {HANDLE} failed: HTTP 500 InternalServerError: "
        "Internal Server Error after 3 attempts."
    ]
    assert len(fake.requests_to("createSession")) == 3 == result.requests


async def test_a_rate_limited_login_waits_then_measures(fake: FakeBluesky) -> None:
    fake.fail("429", match="createSession", retry_after=0.2)

    result = await source(fake).measure(PAPERS, NOW)

    assert result.errors == [] and len(result.measurements) == 3
    first, second = fake.requests_to("createSession")
    assert second.at - first.at >= 0.2


async def test_an_expired_token_logs_in_again_and_carries_on(fake: FakeBluesky) -> None:
    def expire_before_b(query: Mapping[str, str]) -> None:
        if query.get("q") == B and not fake.expired:
            fake.expire_tokens()

    fake.before_search = expire_before_b

    result = await source(fake).measure(PAPERS, NOW)

    assert result.errors == []
    assert [m.paper_id for m in result.measurements] == [A, B, C]
    assert len(fake.requests_to("createSession")) == 2
    assert [r.query["q"] for r in fake.requests_to("searchPosts")] == [A, B, B, C]


async def test_an_expired_token_with_a_changed_password_stops_naming_the_setting(
    fake: FakeBluesky,
) -> None:
    def revoke_before_b(query: Mapping[str, str]) -> None:
        if query.get("q") == B:
            fake.accounts[HANDLE] = "a-new-password"
            fake.expire_tokens()

    fake.before_search = revoke_before_b

    result = await source(fake).measure(PAPERS, NOW)

    assert [m.paper_id for m in result.measurements] == [A]
    assert len(result.errors) == 1 and PASSWORD_ENV in result.errors[0]
    assert result.errors[0].startswith(f"Bluesky rejected the login for {HANDLE}")
    assert result.stopped == "Bluesky rejected the login"


async def test_the_fake_requires_the_session_token(fake: FakeBluesky) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/app.bsky.feed.searchPosts"
        async with session.get(url, params={"q": A}) as response:
            assert response.status == 401
            assert await response.json() == {
                "error": "AuthenticationRequired",
                "message": "Authentication Required",
            }
        login = f"{fake.base_url}/com.atproto.server.createSession"
        body = {"identifier": HANDLE, "password": PASSWORD}
        async with session.post(login, json=body) as response:
            session_data = await response.json()
        assert "didDoc" not in session_data and session_data["handle"] == HANDLE
        headers = {"Authorization": f"Bearer {session_data['accessJwt']}"}
        async with session.get(url, params={"q": A, "limit": "2"}, headers=headers) as response:
            page = await response.json()
    assert len(page["posts"]) == 2 and page["cursor"] == "2" and page["hitsTotal"] >= 3
    view = page["posts"][0]
    assert {
        "uri",
        "cid",
        "author",
        "record",
        "likeCount",
        "repostCount",
        "replyCount",
        "quoteCount",
        "indexedAt",
    } <= set(view)
    assert view["record"]["$type"] == "app.bsky.feed.post"
