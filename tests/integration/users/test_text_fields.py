"""Single-line text of the user service is trimmed before its length is checked.

An API key named "   " used to be stored with the empty name: the minimum length
was checked on the untrimmed text.
"""

from __future__ import annotations

import httpx

from tests.support.factories import sign_up


async def test_blank_api_key_name_is_refused_and_names_are_trimmed(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client, "keyholder")
    blank = await client.post("/api/v1/me/api-keys", json={"name": " \t "}, headers=user.headers)
    assert blank.status_code == 422, blank.text
    assert blank.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in blank.json()["errors"]] == ["name"]

    trimmed = await client.post(
        "/api/v1/me/api-keys", json={"name": "  scrobbler  "}, headers=user.headers
    )
    assert trimmed.status_code == 201, trimmed.text
    keys = (await client.get("/api/v1/me/api-keys", headers=user.headers)).json()
    assert [k["name"] for k in keys["items"]] == ["scrobbler"]

    renamed = await client.patch(
        "/api/v1/me", json={"display_name": "  Key Holder "}, headers=user.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["display_name"] == "Key Holder"
    blank_name = await client.patch(
        "/api/v1/me", json={"display_name": "   "}, headers=user.headers
    )
    assert blank_name.status_code == 422, blank_name.text
