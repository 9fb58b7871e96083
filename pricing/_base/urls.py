"""URLs as they may be recorded, cached or printed: never with a credential in them.

:func:`redact_url` is the one sanitiser used wherever a URL leaves the request that needed it
(``data/sources.toml``, a card's notes, the HTTP cache, messages and errors): the userinfo is
dropped and the value of every query parameter that can carry a secret is replaced by
:data:`REDACTED` (a parameter whose *name* looks like a key is replaced whole). The rest of the
URL is kept byte for byte. :func:`redact_text` does the same to every URL inside a message.
:func:`same_origin` says whether two URLs share scheme, host and port, the only case where
credentials may follow a redirect.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

REDACTED = "REDACTED"

#: Query parameter names that carry credentials (matched anywhere in the name, any case).
SECRET_NAME = re.compile(
    r"token|key|secret|passw|pwd|auth|sig|credential|session|cookie|bearer|jwt",
    re.IGNORECASE,
)
#: A value that looks like a credential whatever its name: 20 or more characters of
#: letters, digits and ``-_.~+/=`` mixing letters and digits.
SECRET_VALUE = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9\-_.~+/=]{20,}$")
_KEY_RUN = re.compile(r"[A-Za-z0-9\-_.~+/=]{20,}")

#: A URL inside free text: a scheme, ``://``, then anything up to white space.
URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>`]+")
#: ``name=value`` after ``?``, ``&``, ``;`` or ``#`` anywhere in a text.
_STRAY_PAIR = re.compile(r"(?<=[?&;#])([^=&;#\s]*)=([^&;#\s]*)")
#: A run of key characters right after ``=`` anywhere in a text.
_KEY_AFTER_EQ = re.compile(r"(?<==)[A-Za-z0-9\-_.~+/]{20,}")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def redact_url(url: str) -> str:
    """``url`` with its userinfo removed and secret-looking query values replaced.

    Parameters are split on ``&`` and ``;``; a parameter is secret when its name matches
    :data:`SECRET_NAME`, its value (or a bare name) holds a run of characters matching
    :data:`SECRET_VALUE`, or its value nests a secret parameter. A fragment is treated like a
    query. Something that is not a URL at all becomes :data:`REDACTED`.

    >>> redact_url("https://user:pw@example.com/p?api_key=abc&page=2")
    'https://example.com/p?api_key=REDACTED&page=2'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL at all (e.g. an invalid IPv6 literal): say nothing of it
        return REDACTED
    netloc = parts.hostname or ""
    if parts.hostname and ":" in parts.hostname:  # IPv6 literal
        netloc = f"[{parts.hostname}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    query = _redact_pairs(parts.query)
    fragment = parts.fragment
    if "=" in fragment:
        fragment = _redact_pairs(fragment)
    elif _keyish(unquote_plus(fragment)):
        fragment = REDACTED
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, fragment))


def _redact_pairs(query: str) -> str:
    """``query`` with each secret parameter's value (or a secret bare name) replaced."""
    pieces = re.split(r"([&;])", query)
    for i in range(0, len(pieces), 2):
        name, eq, value = pieces[i].partition("=")
        plain_name = unquote_plus(name)
        if _keyish(plain_name):  # a bare key (``?<key>``) or a key as a name
            pieces[i] = REDACTED if not eq else f"{REDACTED}={REDACTED}"
        elif not eq:
            continue
        elif _secret(plain_name, unquote_plus(value)):
            pieces[i] = f"{name}={REDACTED}"
    return "".join(pieces)


def _keyish(text: str) -> bool:
    """Whether ``text`` has a run of key characters that looks like a key."""
    return any(SECRET_VALUE.match(run) for run in _KEY_RUN.findall(text))


def _secret(name: str, value: str) -> bool:
    """A secret name, a key somewhere in the value, or a value that nests a secret parameter
    (``?next=/cb?token=...``)."""
    nested = "=" in value and bool(SECRET_NAME.search(value))
    return bool(SECRET_NAME.search(name)) or _keyish(value) or nested


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`, then any query
    parameter left outside a URL (after a space that ended it) redacted the same way, and any
    key-like run of characters after ``=``.

    Punctuation and quotes that end a sentence (``.,;:!?)]'"``) after a URL are kept out of it.

    >>> redact_text("failed: https://x.example/a?token=s3cr3t, try again")
    'failed: https://x.example/a?token=REDACTED, try again'
    """

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        url = found.rstrip(".,;:!?)]'\"")
        return redact_url(url) + found[len(url) :]

    def stray(match: re.Match[str]) -> str:
        name, found = match.group(1), match.group(2)
        value = found.rstrip(".,;:!?)]'\"")
        if not _secret(unquote_plus(name), unquote_plus(value)):
            return match[0]
        return f"{name}={REDACTED}{found[len(value) :]}"

    def keyish(match: re.Match[str]) -> str:
        return REDACTED if SECRET_VALUE.match(match[0]) else match[0]

    return _KEY_AFTER_EQ.sub(keyish, _STRAY_PAIR.sub(stray, URL_IN_TEXT.sub(one, text)))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port defaulted from the scheme; ValueError when
    the port is not a number from 0 to 65535."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def origin_text(url: str) -> str:
    """The origin of ``url`` as ``scheme://host:port``, for messages (redacted whole when its
    port is not a port)."""
    try:
        scheme, host, port = origin(url)
    except ValueError:
        return REDACTED
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def same_origin(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` share scheme, host and port (credentials may go to both); False
    when either has no valid port."""
    try:
        return origin(a) == origin(b)
    except ValueError:
        return False
