"""Secrets and transport of the refresh HTTP client (issue 18, class 4), against real servers.

- a token in a URL's query is never printed, never in an error, never in the HTTP cache;
- header values are checked before they are sent: a bad one is a clear error that does not
  quote the key (CR/LF in ``--auth-scheme``, a non-ASCII ``FAL_KEY``);
- credentials go to the first request's origin only: a redirect to another port, scheme or
  host is refused before anything is sent there;
- a compressed body is decoded in bounded pieces, every layer counted (``gzip, gzip`` bombs);
- each request has a wall-clock deadline: a slow drip cannot hold a refresh past ``--timeout``.
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pricing._base.urls import REDACTED, redact_text, redact_url, same_origin
from pricing._cards.loader import bundled_data_dir
from pricing._refresh.cache import Fetched, HttpCache
from pricing._refresh.http import EnvAuth, FetchPolicy, check_url, fetch, retry_after
from pricing.cli import app
from pricing.cli._fetch import policy as cli_policy
from pricing.errors import RefreshError
from tests._http_server import FixtureServer, Reply, fixture
from tests._raw_server import RawServer, Step, drip, head, reply

ECB = fixture("ecb-eurofxref-daily.xml")
SECRET = "sk-live-9f8e7d6c5b4a3210"  # stands for a token wherever one could leak


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as s:
        yield s


@pytest.fixture
def raw() -> Iterator[RawServer]:
    with RawServer() as s:
        yield s


@pytest.fixture
def policy() -> FetchPolicy:
    """1 retry, no waiting, 2 s limits."""
    return FetchPolicy(
        connect_timeout=2.0,
        read_timeout=2.0,
        deadline=5.0,
        retries=1,
        trust_env=False,
        sleep=lambda _: None,
        jitter=lambda: 0.0,
    )


def get(
    url: str, policy: FetchPolicy, cache: HttpCache | None = None, auth: EnvAuth | None = None
) -> Fetched:
    with policy.client() as client:
        return fetch(url, source="src", client=client, policy=policy, cache=cache, auth=auth)


def refused(url: str, policy: FetchPolicy, auth: EnvAuth | None = None) -> str:
    """The message of the RefreshError a fetch of ``url`` raises."""
    with pytest.raises(RefreshError) as info:
        get(url, policy, auth=auth)
    return str(info.value)


# --------------------------------------------------------------------------- redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://x.test/p?api_key=abc&page=2", "https://x.test/p?api_key=REDACTED&page=2"),
        ("https://u:pw@x.test:8443/p", "https://x.test:8443/p"),
        ("https://x.test/p?a=1;access_token=zz", "https://x.test/p?a=1;access_token=REDACTED"),
        ("https://x.test/p?" + SECRET, "https://x.test/p?REDACTED"),
        ("https://x.test/p?q=" + SECRET, "https://x.test/p?q=REDACTED"),
        (
            "https://x.test/s3?X-Amz-Signature=f00&v=1",
            "https://x.test/s3?X-Amz-Signature=REDACTED&v=1",
        ),
        ("https://x.test/cb#access_token=abc&t=1", "https://x.test/cb#access_token=REDACTED&t=1"),
        ("https://x.test/eurofxref-daily.xml", "https://x.test/eurofxref-daily.xml"),
        ("http://[::1", REDACTED),
    ],
)
def test_redact_url_hides_credentials_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


SECRET_NAMES = st.sampled_from(
    ["token", "api_key", "apikey", "key", "access_token", "X-Amz-Signature", "sig", "password",
     "client_secret", "auth", "session", "Authorization", "jwt", "x-api-key"]
)  # fmt: skip
SECRET_CHARS = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"),
    min_size=8,
    max_size=64,
)
PLAIN = st.lists(
    st.tuples(
        st.sampled_from(["page", "limit", "q", "v"]),
        st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    name=SECRET_NAMES.map(str.upper) | SECRET_NAMES,
    value=SECRET_CHARS,
    before=PLAIN,
    after=PLAIN,
    sep=st.sampled_from(["&", ";"]),
)
def test_redact_url_never_returns_a_secret_value(
    name: str, value: str, before: list[tuple[str, str]], after: list[tuple[str, str]], sep: str
) -> None:
    pairs = [*before, (name, value), *after]
    url = "https://prices.example/v1/cards.toml?" + sep.join(f"{k}={v}" for k, v in pairs)
    for shown in (redact_url(url), redact_text(f"failed ({url}), try again")):
        query = shown.split("?", 1)[1].replace(REDACTED, "*")
        assert value not in query


KEY_LIKE = st.builds(
    lambda letters, digits, rest: letters + digits + rest,
    st.text(st.sampled_from("abcdefXYZ"), min_size=1, max_size=4),
    st.text(st.sampled_from("0123456789"), min_size=1, max_size=4),
    st.text(st.sampled_from("abcXYZ019-_"), min_size=18, max_size=40),
)


@settings(max_examples=200, deadline=None)
@given(
    value=KEY_LIKE,
    name=st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    user=st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
)
def test_a_key_looking_value_or_userinfo_is_redacted_whatever_its_name(
    value: str, name: str, user: str
) -> None:
    shown = redact_url(f"https://{user}:{value}@host.example/p?{name}={value}&{value}")
    assert value not in shown
    assert shown.startswith("https://host.example/p?")


@settings(max_examples=500, deadline=None)
@given(
    pre=st.text(max_size=20),
    post=st.text(max_size=20),
    name=st.sampled_from(["token", "api_key", "x", "q", "sig"]),
)
def test_no_surrounding_text_lets_a_token_through(pre: str, post: str, name: str) -> None:
    for url in (
        f"https://p.example/{pre}?{name}={SECRET}{post}",
        f"https://p.example/x?{pre}&{name}={SECRET}",
        f"https://p.example/x?{pre}={SECRET}{post}",
    ):
        assert SECRET not in redact_url(url)
        assert SECRET not in redact_text(f"src ({url}): {pre} failed")


def test_same_origin_is_scheme_host_and_port() -> None:
    assert same_origin("https://a.test/x", "https://A.test:443/y?z")
    assert not same_origin("https://a.test/x", "https://a.test:8443/x")
    assert not same_origin("http://a.test/x", "https://a.test/x")
    assert not same_origin("https://a.test/x", "https://b.a.test/x")


# --------------------------------------------------------------------------- tokens in URLs


@pytest.mark.parametrize(
    ("reply_", "says"),
    [
        (Reply(b"gone", 404), "HTTP 404"),
        (Reply(b"oops", 500), "gave up after 2 attempt(s)"),
        (Reply(b"x" * 5000), "too large"),
        (
            Reply(status=302, headers={"Location": "https://elsewhere.test/?token=" + SECRET}),
            "another host",
        ),
    ],
)
def test_a_token_in_the_query_is_in_no_error(
    server: FixtureServer, policy: FetchPolicy, reply_: Reply, says: str
) -> None:
    url = server.route("/cards.toml", reply_) + "?api_key=" + SECRET
    message = refused(url, replace(policy, max_bytes=1000))
    assert says in message
    assert SECRET not in message
    assert "api_key=REDACTED" in message


def test_the_cache_keys_on_the_full_url_but_stores_no_token(
    server: FixtureServer, policy: FetchPolicy, tmp_path: Path
) -> None:
    base = server.route("/cards.toml", Reply(b"x = 1\n", etag='"v1"'))
    url = f"{base}?token={SECRET}"
    cache = HttpCache(tmp_path / "cache")
    cache.put(url, get(url, policy, cache))
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 2
    for path in files:
        assert SECRET not in path.name
        assert SECRET.encode() not in path.read_bytes()
    meta = json.loads(next(p for p in files if p.suffix == ".json").read_text())
    assert meta["url"] == f"{base}?token=REDACTED"
    again = get(url, policy, cache)  # the same full URL: revalidated, 304, cached body
    assert (again.status, again.body) == (304, b"x = 1\n")
    other = get(f"{base}?token=another-token", policy, cache)  # another token: another entry
    assert other.status == 200
    assert "if-none-match" not in server.requests("/cards.toml")[-1].headers


def test_a_cache_entry_of_the_old_format_is_deleted_when_met(
    server: FixtureServer, policy: FetchPolicy, tmp_path: Path
) -> None:
    url = server.route("/cards.toml", Reply(b"x = 1\n", etag='"v1"')) + f"?token={SECRET}"
    cache = HttpCache(tmp_path / "cache")
    cache.put(url, get(url, policy))
    meta = next((tmp_path / "cache").glob("*.json"))
    old = json.loads(meta.read_text())
    del old["url_sha256"]
    old["url"] = url  # the format before: the full URL, token included
    meta.write_text(json.dumps(old))
    assert cache.get(url) is None
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled_data_dir(), tmp_path / "data"))


CARD = b"""\
provider = "acme"
name = "Acme"

[[offers]]
id = "acme/flux-dev"
model = "flux-1-dev"
operations = ["generate"]

  [[offers.versions]]
  effective_from = 2026-01-01
  source = "team-negotiated"
  components = [{ unit = "image", price = 0.02 }]
"""


def test_the_cli_never_prints_a_token_from_the_url(server: FixtureServer, data: Path) -> None:
    common = ["--data", str(data), "--cache-dir", str(data.parent / "cache"), "--retries", "0"]
    runner = CliRunner()
    ok = server.route("/acme.toml", Reply(CARD)) + f"?token={SECRET}"
    for extra in (["--dry-run", "--json"], ["--dry-run"]):
        result = runner.invoke(app, ["cards", "pull", ok, *common, *extra])
        assert result.exit_code == 0, result.output
        assert SECRET not in result.output
    assert "token=REDACTED" in result.output
    bad = server.route("/gone.toml", Reply(b"", 404)) + f"?token={SECRET}"
    for extra in ([], ["--json"]):
        result = runner.invoke(app, ["cards", "pull", bad, *common, *extra])
        assert result.exit_code == 1
        assert "HTTP 404" in result.stderr
        assert SECRET not in result.stdout + result.stderr


# --------------------------------------------------------------------------- header values


def test_a_line_break_in_the_auth_scheme_is_refused_without_the_token(
    server: FixtureServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_PRICES_TOKEN", SECRET)
    url = server.route("/cards.toml", Reply(b"x = 1\n"))
    message = refused(url, policy, EnvAuth("TEAM_PRICES_TOKEN", scheme="Bearer\r\nX-Evil: 1"))
    assert "--auth-scheme" in message
    assert "line break" in message
    assert SECRET not in message
    assert server.count("/cards.toml") == 0


@pytest.mark.parametrize(
    "key", ["clé-secrète-123", "key\u00a0with-nbsp", "k\x1b[31mred", "“quoted”"]
)
def test_a_non_ascii_or_control_key_is_a_clear_error(
    server: FixtureServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("FAL_KEY", key)
    url = server.route("/pricing", Reply(b"{}"))
    message = refused(url, policy, EnvAuth("FAL_KEY", scheme="Key"))
    assert "the value of FAL_KEY contains control characters or non-ASCII letters" in message
    assert key not in message
    assert server.count("/pricing") == 0


def test_a_non_ascii_fal_key_fails_the_cli_without_a_traceback(
    server: FixtureServer, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "ключ-0123456789")
    url = server.route("/pricing", Reply(fixture("fal-pricing.json")))
    common = ["--data", str(data), "--cache-dir", str(data.parent / "cache")]
    result = CliRunner().invoke(app, ["refresh", "fal", "--url", f"fal={url}", *common])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "FAL_KEY contains control characters or non-ASCII letters" in result.stderr
    assert "ключ" not in result.stderr
    assert server.count("/pricing") == 0


def test_a_key_passed_as_the_variable_name_is_not_repeated(policy: FetchPolicy) -> None:
    with pytest.raises(RefreshError, match="pass the variable's name, not the key") as info:
        EnvAuth("sk_live_0123456789abcdefghij").headers("src")
    assert "sk_live_0123456789abcdefghij" not in str(info.value)


@pytest.mark.parametrize("header", ["X API Key", "Host", "Content-Length", "X-Kéy", ""])
def test_an_auth_header_name_a_request_cannot_carry_is_refused(
    header: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_PRICES_TOKEN", SECRET)
    with pytest.raises(RefreshError, match=r"--auth-header\) is not one a request can carry"):
        EnvAuth("TEAM_PRICES_TOKEN", header=header).headers("src")


def _sendable(name: str, value: str) -> bool:
    """Whether h11 (the HTTP/1.1 writer httpx uses) accepts the header."""
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "x"), (name, value)])
    except (h11.LocalProtocolError, UnicodeError):
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(
    value=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40),
    header=st.sampled_from(["Authorization", "X-API-Key"]) | st.text(max_size=12),
    scheme=st.sampled_from(["Bearer", "Key", ""]) | st.text(max_size=10),
)
def test_any_key_header_or_scheme_is_sent_as_is_or_refused_cleanly(
    value: str, header: str, scheme: str
) -> None:
    import os

    os.environ["GUARD_HTTP_PROBE"] = value
    try:
        auth = EnvAuth("GUARD_HTTP_PROBE", header=header, scheme=scheme)
        try:
            sent = auth.headers("src")
        except RefreshError as exc:
            said = str(exc)
        else:
            said = ""
        if said:
            key = value.strip()
            assert len(key) < 8 or key not in said
            return
        ((name, line),) = sent.items()
        assert name == header
        assert line == (f"{scheme} {value.strip()}" if scheme else value.strip())
        assert _sendable(name, line)
    finally:
        del os.environ["GUARD_HTTP_PROBE"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_check_url_accepts_or_refuses_cleanly(text: str) -> None:
    for url in (text, "https://" + text, f"https://prices.example/{text}?token={SECRET}"):
        said = ""
        try:
            check_url(url, "src", FetchPolicy())
        except RefreshError as exc:
            said = str(exc)
        assert SECRET not in said


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"[0-9]{1,30}", fullmatch=True))
def test_retry_after_never_raises(value: str) -> None:
    wait = retry_after(value, datetime(2026, 1, 1, tzinfo=UTC))
    assert wait is None or wait >= 0


# --------------------------------------------------------------------------- redirects


def test_credentials_never_follow_a_redirect_to_another_port(
    server: FixtureServer, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM_PRICES_TOKEN", SECRET)
    auth = EnvAuth("TEAM_PRICES_TOKEN")
    with FixtureServer() as other:
        target = other.route("/cards.toml", Reply(b"x = 1\n"))
        url = server.route("/old", Reply(status=302, headers={"Location": target}))
        message = refused(url, policy, auth)
        assert f"redirect to another origin (http://127.0.0.1:{other.port}) refused" in message
        assert other.count("/cards.toml") == 0  # nothing was sent there, key or not
    server.route("/new", Reply(b"x = 1\n"))
    same = server.route("/moved", Reply(status=301, headers={"Location": "/new"}))
    assert get(same, policy, auth=auth).body == b"x = 1\n"
    assert server.requests("/new")[0].headers["authorization"] == f"Bearer {SECRET}"


def test_a_redirect_to_https_on_the_same_host_is_another_origin(
    server: FixtureServer, policy: FetchPolicy
) -> None:
    upgrade = f"https://127.0.0.1:{server.port}/x"
    url = server.route("/x", Reply(status=301, headers={"Location": upgrade}))
    assert "redirect to another origin (https://127.0.0.1:" in refused(url, policy)
    assert server.count("/x") == 1


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("http://[::1", "a redirect with a Location that is not a URL"),
        ("http://127.0.0.1:99999/x", "port 99999 is not a port"),
        ("ftp://127.0.0.1/x", "scheme 'ftp' is not supported"),
    ],
)
def test_a_location_that_cannot_be_followed_is_a_clear_error(
    server: FixtureServer, policy: FetchPolicy, location: str, says: str
) -> None:
    url = server.route("/x", Reply(status=302, headers={"Location": location}))
    assert says in refused(url, policy)
    assert server.count("/x") == 1


# --------------------------------------------------------------------------- encodings


def _deflate_raw(data: bytes) -> bytes:
    z = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return z.compress(data) + z.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(ECB)),
        ("x-gzip", gzip.compress(ECB)),
        ("deflate", zlib.compress(ECB)),
        ("deflate", _deflate_raw(ECB)),
        ("gzip, gzip", gzip.compress(gzip.compress(ECB))),
        ("deflate, gzip", gzip.compress(zlib.compress(ECB))),
        ("GZIP , identity", gzip.compress(ECB)),
        ("identity", ECB),
        ("gzip", gzip.compress(ECB[:900]) + b"\0\0" + gzip.compress(ECB[900:]) + b"\0"),
    ],
)
def test_stacked_and_multi_member_encodings_decode_exactly(
    raw: RawServer, policy: FetchPolicy, encoding: str, body: bytes
) -> None:
    url = raw.route("/ecb.xml", reply(body, [("Content-Encoding", encoding)]))
    assert get(url, policy).body == ECB
    assert raw.requests()[0].headers["accept-encoding"] == "gzip, deflate"


def _zeros_gzip(megabytes: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(z.compress(block) for _ in range(megabytes)) + z.flush()


def test_a_double_gzip_bomb_is_stopped_with_little_memory(
    raw: RawServer, policy: FetchPolicy
) -> None:
    bomb = gzip.compress(_zeros_gzip(128), 9)  # 128 MiB of zeros in a kilobyte or so
    assert len(bomb) < 2000
    url = raw.route("/bomb", reply(bomb, [("Content-Encoding", "gzip, gzip")]))
    small = replace(policy, max_bytes=1_000_000)
    tracemalloc.start()
    try:
        message = refused(url, small)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "too large: more than 1,000,000 bytes after undoing gzip (encoding 2 of 2)" in message
    assert "--max-bytes" in message
    assert peak < 8_000_000  # the limit and a few pieces, not the 128 MiB
    assert raw.count("/bomb") == 1  # not retried


def test_each_layer_is_capped_even_when_the_last_one_is_small(
    raw: RawServer, policy: FetchPolicy
) -> None:
    # The inner stream is a small gzip member and 2 MB of zero padding (which gzip readers
    # skip): the final body is tiny, the layer before it is not.
    inner = gzip.compress(b"x = 1\n") + bytes(2_000_000)
    url = raw.route("/pad", reply(gzip.compress(inner), [("Content-Encoding", "gzip, gzip")]))
    small = replace(policy, max_bytes=1_000_000)
    assert "after undoing gzip (encoding 1 of 2)" in refused(url, small)
    assert get(url, replace(policy, max_bytes=3_000_000)).body == b"x = 1\n"


@pytest.mark.parametrize(
    ("encoding", "body", "says"),
    [
        (
            "br",
            b"\x0b\x02\x80hello\x03",
            "Content-Encoding 'br', which this client does not decode",
        ),
        ("gzip, zstd", b"...", "Content-Encoding 'zstd'"),
        ("gzip", b"not gzip at all", "not valid gzip data"),
        ("gzip", gzip.compress(ECB)[:-30], "stops before its end (truncated)"),
        ("deflate", zlib.compress(ECB)[:40], "stops before its end (truncated)"),
        ("gzip, gzip, gzip, gzip", b"", "at most 3 layers are undone"),
    ],
)
def test_an_unknown_corrupt_or_truncated_encoding_is_a_clear_error(
    raw: RawServer, policy: FetchPolicy, encoding: str, body: bytes, says: str
) -> None:
    url = raw.route("/x", reply(body, [("Content-Encoding", encoding)]))
    message = refused(url, policy)
    assert "the body could not be decoded" in message
    assert says in message
    assert raw.count("/x") == 1  # a body that cannot be read is not asked for again


# --------------------------------------------------------------------------- deadline


def test_a_slow_drip_body_stops_at_the_deadline(raw: RawServer, policy: FetchPolicy) -> None:
    body = b"x" * 400  # 40 s at a byte every 0.1 s; each read comes well within its timeout
    url = raw.route("/drip", [Step(head(length=len(body))), *drip(body, 0.1)])
    quick = replace(policy, deadline=1.0, read_timeout=1.0)
    start = time.monotonic()
    message = refused(url, quick)
    elapsed = time.monotonic() - start
    assert "the response was still arriving after 1 s, the limit of one request" in message
    assert "--timeout" in message
    assert elapsed < 1.6
    assert raw.count("/drip") == 1  # not retried: the server is answering, too slowly


def test_a_drip_without_framing_is_not_taken_for_a_whole_body(
    raw: RawServer, policy: FetchPolicy
) -> None:
    url = raw.route("/drip", [Step(head()), *drip(b"x" * 400, 0.1)])  # read until close
    quick = replace(policy, deadline=0.8)
    assert "still arriving after 0.8 s" in refused(url, quick)


def test_slow_headers_are_retried_like_a_timeout_each_within_the_deadline(
    raw: RawServer, policy: FetchPolicy
) -> None:
    url = raw.route("/slow", drip(head(length=2) + b"ok", 0.1))  # about 6 s of headers
    quick = replace(policy, deadline=0.6)
    start = time.monotonic()
    message = refused(url, quick)
    assert "gave up after 2 attempt(s): timed out: no response within 0.6 s" in message
    assert time.monotonic() - start < 2.0
    assert raw.count("/slow") == 2


def _resolver(monkeypatch: pytest.MonkeyPatch, names: dict[str, str], hang: set[str]) -> list[str]:
    """``socket.getaddrinfo`` answering ``names`` with loopback addresses and never answering
    (for 30 s) the ``hang`` names, as a broken DNS server would; the names asked are listed."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        if host in hang:
            time.sleep(30)
        return real(names.get(str(host), host), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_resolver_that_never_answers_is_stopped_by_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch, policy: FetchPolicy
) -> None:
    asked = _resolver(monkeypatch, {}, hang={"prices.invalid"})
    quick = replace(policy, connect_timeout=0.5, deadline=5.0, allow_http=True)
    start = time.monotonic()
    message = refused("http://prices.invalid:9/p.json", quick)
    # two attempts of 0.5 s (and a back-off), not 2 x 30 s: a wide margin for a loaded machine
    assert time.monotonic() - start < 10.0
    assert asked == ["prices.invalid", "prices.invalid"]  # retried like any timeout
    assert "gave up after 2 attempt(s)" in message
    assert "timed out" in message


def test_a_resolver_is_also_held_to_the_deadline(
    monkeypatch: pytest.MonkeyPatch, policy: FetchPolicy
) -> None:
    _resolver(monkeypatch, {}, hang={"prices.invalid"})
    quick = replace(policy, connect_timeout=10.0, deadline=0.5, retries=0, allow_http=True)
    start = time.monotonic()
    refused("http://prices.invalid:9/p.json", quick)
    assert time.monotonic() - start < 6.0  # the deadline of 0.5 s, not the 10 s connect timeout


def test_a_resolved_name_connects_to_its_address_and_keeps_its_host(
    monkeypatch: pytest.MonkeyPatch, server: FixtureServer, policy: FetchPolicy
) -> None:
    asked = _resolver(monkeypatch, {"ecb.example": "127.0.0.1"}, hang=set())
    server.route("/ecb.xml", Reply(body=ECB))
    got = get(server.url("/ecb.xml", host="ecb.example"), replace(policy, allow_http=True))
    assert got.body == ECB
    assert "ecb.example" in asked
    assert server.requests("/ecb.xml")[-1].headers["host"] == f"ecb.example:{server.port}"


def test_cli_timeout_bounds_a_slow_drip(raw: RawServer, data: Path) -> None:
    body = b"x" * 400
    url = raw.route("/ecb.xml", [Step(head(length=len(body))), *drip(body, 0.1)])
    assert cli_policy(False, False, 1.0, 3, 1000).deadline == 1.0
    args = ["fx", "pull", "--url", url, "--timeout", "1", "--data", str(data), "--no-cache"]
    start = time.monotonic()
    result = CliRunner().invoke(app, args)
    assert time.monotonic() - start < 2.5  # the default 3 retries are not spent on a drip
    assert result.exit_code == 1
    assert "still arriving after 1 s" in result.stderr


def test_a_server_reason_phrase_is_printed_as_plain_ascii(
    raw: RawServer, policy: FetchPolicy
) -> None:
    url = raw.route(
        "/x",
        [
            Step(
                head(
                    404,
                    reason="Nicht gefunden \u2013 \u00fc".encode("latin-1", "replace"),
                    length=0,
                )
            )
        ],
    )
    message = refused(url, policy)
    assert "HTTP 404 Nicht gefunden" in message
    assert message.isascii()
