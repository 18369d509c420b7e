"""Fixtures of the search tests: a signed-in caller on the parametrized database."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import SignedIn, sign_up


@pytest.fixture
async def viewer(client: httpx.AsyncClient) -> SignedIn:
    return await sign_up(client, "searcher")
