"""The token over real HTTP, the request-size guard, and the rule that keeps the app off the
network without a token (ser_tf.app.security, ser_tf.app.settings)."""

import httpx
import pytest

from ser_tf.app.security import check_token, TokenRefused
from ser_tf.app.settings import AppSettings, is_loopback
from ser_tf.errors import ParameterError
from tests.app.conftest import TOKEN


@pytest.mark.parametrize("headers, params, status", [
    ({}, {}, 401),
    ({"Authorization": "Bearer wrong-token-123"}, {}, 403),
    ({}, {"token": "wrong-token-123"}, 403),
    ({"Authorization": f"Bearer {TOKEN}"}, {}, 200),
    ({}, {"token": TOKEN}, 200),
])
def test_every_api_call_needs_the_token(token_server, headers, params, status):
    response = httpx.get(f"{token_server.url}/api/recordings", headers=headers, params=params)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert "needs its API token" in response.json()["detail"]
    if status == 403:
        assert response.json()["detail"] == "wrong API token"


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/info"), ("POST", "/api/recordings"), ("GET", "/api/recordings/1"),
    ("DELETE", "/api/recordings/1"), ("GET", "/api/recordings/1/audio"),
    ("GET", "/api/recordings/1/report/index.html"), ("GET", "/api/reports/week/2026-11-30/index.html"),
    ("GET", "/api/trends"), ("GET", "/api/rules"), ("POST", "/api/rules"), ("DELETE", "/api/rules/1"),
    ("GET", "/api/alerts"),
])
def test_no_route_answers_without_the_token(token_server, method, path):
    assert httpx.request(method, f"{token_server.url}{path}").status_code == 401


def test_the_page_itself_loads_without_the_token_and_knows_one_is_needed(token_server):
    assert httpx.get(f"{token_server.url}/").status_code == 200
    info = httpx.get(f"{token_server.url}/api/info", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert info["token_required"] is True


def test_check_token_compares_exactly():
    check_token(None, None)
    check_token("abcdefgh", "abcdefgh")
    for presented, status in ((None, 401), ("", 401), ("abcdefg", 403), ("abcdefghi", 403)):
        with pytest.raises(TokenRefused) as err:
            check_token("abcdefgh", presented)
        assert err.value.status == status


def test_serving_beyond_loopback_needs_a_token():
    with pytest.raises(ParameterError, match="--host 0.0.0.0 serves beyond this machine; set --token"):
        AppSettings(host="0.0.0.0")
    assert AppSettings(host="0.0.0.0", token="long-enough-token").token == "long-enough-token"
    with pytest.raises(ParameterError, match="at least 8 characters"):
        AppSettings(token="short")
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.2", "example.org")] \
        == [True, True, True, False, False, False]
