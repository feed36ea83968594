"""Fixtures of the publish tests: a FakeX that checks the OAuth keys, and a seeded listing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from hotpapers.fakes.x import FakeX
from tests.publish._x_support import KEY, NOW, TOKEN, seed


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX(now=NOW, consumer_key=KEY, access_token=TOKEN) as server:
        yield server


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine
