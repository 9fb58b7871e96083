"""The validated catalog, kept on disk between runs: a command need not read and validate
every rate card again when none has changed.

:func:`load_catalog` is :func:`pricing._cards.catalog.load_catalog` through a cache in
``$XDG_CACHE_HOME/pricing/`` (default ``~/.cache/pricing/``). An entry is the pickled
:class:`~pricing._cards.catalog.Catalog`, found by a key that hashes every file the loader
reads (its path and bytes: ``sources.toml``, ``models.toml``, ``rate-cards/*.toml``), the
data directory, the code that builds a catalog (``pricing/_cards``, ``pricing/_base``,
``pricing/errors.py``), and the versions of the package, pydantic and Python. Any change
to any of them is a new key, so a changed card is always read again; each data directory
keeps only its newest entry.

The cache never stands in the way: a missing, unreadable or corrupt entry is rebuilt, an
unwritable cache directory just means no cache, data with problems raise as they always do
(and are never cached), and ``PRICING_NO_CACHE=1`` turns it off. Entries are pickles, so
the cache directory must be as private as the user's home (it is made ``0700``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

from pricing._base.atomic import atomic_write
from pricing._cards import catalog as _catalog
from pricing._cards.loader import bundled_data_dir

#: Set to 1 to read and validate the data on every call.
NO_CACHE_ENV = "PRICING_NO_CACHE"
#: Bump to drop every entry written by an older layout of the cache.
FORMAT = 1
#: The package's own files whose code shapes a catalog: a change to any is a new key.
_CODE_DIRS = ("_cards", "_base")


def cache_dir() -> Path:
    """Where entries go: ``$XDG_CACHE_HOME/pricing`` (an absolute ``XDG_CACHE_HOME`` only, as
    the XDG spec says), else ``~/.cache/pricing``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "pricing"


def load_catalog(path: str | Path | None = None) -> _catalog.Catalog:
    """The catalog of ``path`` (default: the bundled ``data/``), from the cache when its files
    are unchanged, else read, validated and stored (see the module's docstring).

    Raises
    ------
    RateCardError
        As :func:`pricing._cards.catalog.load_catalog`: data with problems is never cached.
    """
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return _catalog.load_catalog(path)
    root = Path(path) if path is not None else bundled_data_dir()
    key = _key(root)
    try:
        home = cache_dir()
    except (RuntimeError, KeyError):  # no home directory to put it in: no cache
        key = None
    if key is None:  # not a readable data directory: the loader says what is wrong
        return _catalog.load_catalog(path)
    entry = home / f"catalog-{key[:16]}-{key[16:48]}.pickle"
    found = _read(entry)
    if found is not None:
        return found
    cat = _catalog.load_catalog(path)
    _write(entry, cat)
    return cat


def _data_files(root: Path) -> list[Path]:
    """The files the loader reads, in its order."""
    cards = root / "rate-cards"
    return [root / "sources.toml", root / "models.toml", *sorted(cards.glob("*.toml"))]


def _key(root: Path) -> str | None:
    """Hex digest: 16 characters naming the data directory, then the hash of all it holds;
    ``None`` when a file cannot be read."""
    digest = hashlib.sha256()
    try:
        resolved = root.resolve()
        for file in _data_files(resolved):
            _add(digest.update, file.relative_to(resolved).as_posix(), file.read_bytes())
        for file in _code_files():
            _add(digest.update, file.name, file.read_bytes())
    except (OSError, RuntimeError, ValueError):  # missing, unreadable, a link loop
        return None
    import pydantic

    for part in (FORMAT, _package_version(), pydantic.VERSION, sys.version, resolved):
        _add(digest.update, "version", str(part).encode())
    place = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    return place + digest.hexdigest()


def _add(update: Callable[[bytes], object], name: str, data: bytes) -> None:
    """Feed one named part to a hash, its lengths first so that no two ways of splitting the
    same bytes hash alike."""
    label = name.encode()
    update(len(label).to_bytes(8, "big") + label + len(data).to_bytes(8, "big"))
    update(data)


def _code_files() -> list[Path]:
    package = _package()
    files = [package / "errors.py"]
    for folder in _CODE_DIRS:
        files += sorted((package / folder).glob("*.py"))
    return files


def _package() -> Path:
    return Path(__file__).resolve().parent.parent


def _package_version() -> str:
    """The installed version (the ``pricing-*.dist-info`` beside the package), or in a
    checkout the bytes of ``pyproject.toml``: cheaper than ``importlib.metadata``."""
    where = _package().parent
    found = sorted(p.name for p in where.glob("pricing-*.dist-info"))
    if found:
        return " ".join(found)
    try:
        return (where / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return "unknown"


def _read(entry: Path) -> _catalog.Catalog | None:
    """The catalog stored at ``entry``, or ``None`` if there is none or it cannot be used."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        found = pickle.loads(data)
    except Exception:  # a corrupt or foreign entry, whatever the unpickler makes of it
        return None
    return found if isinstance(found, _catalog.Catalog) else None


def _write(entry: Path, cat: _catalog.Catalog) -> None:
    """Store ``cat`` at ``entry`` and drop the older entries of its data directory; any
    failure (a read-only or full disk, no home) leaves the cache as it was."""
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(entry, pickle.dumps(cat, protocol=pickle.HIGHEST_PROTOCOL))
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return
    prefix = entry.name[: len("catalog-") + 16]
    for old in entry.parent.glob(f"{prefix}-*.pickle"):
        if old != entry:
            with contextlib.suppress(OSError):
                old.unlink()
