"""The fake Bluesky every test of the source talks to, holding the known posts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hotpapers.fakes.social import FakeBluesky
from tests.signals.bluesky._support import HANDLE, PASSWORD, known_posts


@pytest.fixture
async def fake() -> AsyncIterator[FakeBluesky]:
    server = FakeBluesky({HANDLE: PASSWORD})
    server.add(*known_posts())
    await server.start()
    yield server
    await server.close()
