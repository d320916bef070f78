"""The sandbox_health lookup: the sandbox's health answer, asked in the worker, else an empty dict."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible_collections.iconeus.tenant_toolkit.plugins.lookup import sandbox_health as sh

TOKEN = "s3cr3t-admin-token"
HEALTH = {"status": "ok", "time_scale": 0.05, "samba": True}


class Endpoint:
    """A loopback HTTP server whose answer to each path the test sets; it records the requests it got."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.delay = 0.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests.append(("GET", self.path, self.headers.get("Authorization")))
                expected = "Basic " + base64.b64encode(f"sandbox:{TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    status, body = 401, b'{"error": "admin token required"}'
                else:
                    status, body = endpoint.answers.get(self.path, (404, b'{"error": "not found"}'))
                if endpoint.delay:
                    time.sleep(endpoint.delay)
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", f"{endpoint.url}/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    yield served
    served.close()


def url_nothing_listens_on() -> str:
    """A loopback URL whose port was bound, then closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


def lookup(*terms: Any, **options: Any) -> list[Any]:
    """The lookup as Ansible loads it (its options come from its documentation)."""
    plugin = lookup_loader.get("iconeus.tenant_toolkit.sandbox_health")
    assert plugin is not None
    return plugin.run(list(terms), {}, **options)


def test_the_sandbox_answer_is_returned(endpoint: Endpoint) -> None:
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(HEALTH).encode())
    assert lookup(endpoint.url, token=TOKEN) == [HEALTH]
    # one GET of the health path, with the admin token as HTTP basic authentication
    assert [(method, path) for method, path, _auth in endpoint.requests] == [("GET", "/_sandbox/health")]
    assert endpoint.requests[0][2] == "Basic " + base64.b64encode(f"sandbox:{TOKEN}".encode()).decode()


def test_a_trailing_slash_of_the_endpoint_is_not_doubled(endpoint: Endpoint) -> None:
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(HEALTH).encode())
    assert lookup(endpoint.url + "/", token=TOKEN) == [HEALTH]
    assert endpoint.requests[0][1] == "/_sandbox/health"


@pytest.mark.parametrize(
    ("answer", "token"),
    [
        ((404, b'{"error": "not found"}'), TOKEN),  # an endpoint that is not the sandbox
        ((200, json.dumps(HEALTH).encode()), "another token"),  # a refused token (401)
        ((200, b"<html>a proxy page</html>"), TOKEN),  # not JSON
        ((200, b'["ok"]'), TOKEN),  # JSON, not an object
        ((200, b'{"status": "down", "samba": true}'), TOKEN),  # an object that is not a healthy sandbox
        ((500, b'{"status": "ok"}'), TOKEN),  # an error status, whatever the body
        ((302, json.dumps(HEALTH).encode()), TOKEN),  # a redirect is not followed (the token would go with it)
        ((200, b'{"status": "ok", "pad": "' + b"x" * 70_000 + b'"}'), TOKEN),  # larger than any health answer
    ],
)
def test_anything_else_is_an_empty_answer(endpoint: Endpoint, answer: tuple[int, bytes], token: str) -> None:
    endpoint.answers["/_sandbox/health"] = answer
    assert lookup(endpoint.url, token=token) == [{}]
    assert [path for _method, path, _auth in endpoint.requests] == ["/_sandbox/health"]  # one request, no other


def test_an_answer_later_than_the_timeout_is_an_empty_answer(endpoint: Endpoint) -> None:
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(HEALTH).encode())
    endpoint.delay = 2.0
    assert lookup(endpoint.url, token=TOKEN, timeout=0.3) == [{}]
    assert lookup(endpoint.url, token=TOKEN, timeout=5) == [HEALTH]  # the same answer, waited for


@pytest.mark.parametrize(
    "url",
    [
        "{port}",  # no scheme
        "ftp://127.0.0.1:{port}/",
        "file:///etc/passwd",
        "http://sandbox.example.com:{port}",  # a host name: the sandbox answers none but localhost
        "http://[::1",  # not a URL
        None,
        4566,
    ],
)
def test_the_token_goes_to_no_endpoint_but_a_local_http_url(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, url: Any
) -> None:
    said: list[str] = []
    monkeypatch.setattr(sh.display, "vvv", lambda msg, *args, **kwargs: said.append(msg))
    given = url.format(port=endpoint.url.rsplit(":", 1)[1]) if isinstance(url, str) else url
    assert lookup(given, token=TOKEN) == [{}]
    assert endpoint.requests == []
    assert any("not the sandbox, not asked" in msg for msg in said), said


def test_localhost_is_asked(endpoint: Endpoint) -> None:
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(HEALTH).encode())
    assert lookup(endpoint.url.replace("127.0.0.1", "localhost"), token=TOKEN) == [HEALTH]


def test_only_the_keys_of_the_sandbox_health_are_kept(endpoint: Endpoint) -> None:
    echo = {**HEALTH, "services": ["appstream"], "headers": {"Authorization": "Basic ..."}, "extra": 1}
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(echo).encode())
    assert lookup(endpoint.url, token=TOKEN) == [{**HEALTH, "services": ["appstream"]}]


def test_a_proxy_of_the_environment_is_not_used(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy nothing listens on: a request through it would fail (and hand it the token).
    proxy = url_nothing_listens_on()
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    endpoint.answers["/_sandbox/health"] = (200, json.dumps(HEALTH).encode())
    assert lookup(endpoint.url, token=TOKEN) == [HEALTH]


def test_no_answer_is_an_empty_answer() -> None:
    assert lookup(url_nothing_listens_on(), token=TOKEN, timeout=2) == [{}]


def test_the_token_is_never_said(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(sh.display, "vvv", lambda msg, *args, **kwargs: said.append(msg))
    endpoint.answers["/_sandbox/health"] = (200, b"not JSON")
    assert lookup(endpoint.url, token=TOKEN) == [{}]  # an answer that is not the sandbox's
    endpoint.answers["/_sandbox/health"] = (404, b"{}")
    assert lookup(endpoint.url, token=TOKEN) == [{}]  # an HTTP error (raised by open_url)
    endpoint.close()
    assert lookup(endpoint.url, token=TOKEN, timeout=2) == [{}]  # no answer at all
    said = [msg for msg in said if msg.startswith("sandbox_health:")]
    assert len(said) == 3, said  # each reason is said at -vvv
    encoded = base64.b64encode(f"sandbox:{TOKEN}".encode()).decode()
    assert all(TOKEN not in msg and encoded not in msg for msg in said)


@pytest.mark.parametrize(
    ("terms", "options"),
    [
        ((), {}),
        (("http://127.0.0.1:1", "http://127.0.0.1:2"), {}),
        (("http://127.0.0.1:1",), {"timeout": 0}),
        (("http://127.0.0.1:1",), {"timeout": -1}),
    ],
)
def test_bad_terms_and_options_are_refused(terms: tuple[str, ...], options: dict[str, Any]) -> None:
    with pytest.raises(AnsibleLookupError):
        lookup(*terms, **options)
