"""The validated-catalog cache on disk (``pricing._cards.cache``): a hit is the same catalog,
any change of a data file is a miss, and a broken or unwritable cache is never an error."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import pricing
from pricing._cards import cache, catalog
from tests.conftest import offer, version, write_data

PRICE = '{ unit = "image", price = 0.04 }'


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache home of this test alone."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.NO_CACHE_ENV, raising=False)
    return tmp_path / "xdg" / "pricing"


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The data directories read and validated (cache misses), in order."""
    seen: list[Path] = []
    real = catalog.load_catalog

    def counting(path: str | Path | None = None) -> pricing.Catalog:
        seen.append(Path(str(path)))
        return real(path)

    monkeypatch.setattr(catalog, "load_catalog", counting)
    return seen


def data_dir(root: Path, price: str = PRICE) -> Path:
    return write_data(root, {"acme": offer(version(price))})


def acme_price(cat: pricing.Catalog) -> object:
    return cat.offer("acme/m").versions[0].components[0].price  # type: ignore[union-attr]


def test_a_hit_is_an_equal_catalog(tmp_path: Path, home: Path, loads: list[Path]) -> None:
    data = data_dir(tmp_path / "data")
    first = cache.load_catalog(data)
    assert cache.cache_dir() == home
    assert len(list(home.glob("catalog-*.pickle"))) == 1
    again = cache.load_catalog(data)
    assert loads == [data]  # the second came from the cache
    assert again == first
    assert again == catalog.load_catalog(data)
    assert again.root == data.resolve()


def test_one_changed_byte_is_a_miss(tmp_path: Path, home: Path) -> None:
    data = data_dir(tmp_path / "data")
    assert acme_price(cache.load_catalog(data)) == Decimal("0.04")
    card = data / "rate-cards" / "acme.toml"
    stat = card.stat()
    text = card.read_bytes()
    card.write_bytes(text.replace(b"0.04", b"0.05"))  # same size
    os.utime(card, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time
    # A new process, so that nothing in memory can answer: only the disk cache or the files.
    code = (
        "import sys; from pricing._cards.cache import load_catalog; "
        "print(load_catalog(sys.argv[1]).offer('acme/m').versions[0].components[0].price)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(data)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "0.05"
    assert len(list(home.glob("catalog-*.pickle"))) == 1  # the old entry of the directory went


def test_a_new_card_file_is_a_miss(tmp_path: Path, home: Path, loads: list[Path]) -> None:
    data = data_dir(tmp_path / "data")
    cache.load_catalog(data)
    write_data(data, {"other": offer(version(PRICE), offer_id="other/m")})
    assert set(cache.load_catalog(data).cards) == {"acme", "other"}
    assert len(loads) == 2


def test_each_data_directory_has_its_own_entry(
    tmp_path: Path, home: Path, loads: list[Path]
) -> None:
    a = data_dir(tmp_path / "a")
    b = data_dir(tmp_path / "b")  # the same bytes elsewhere: its own catalog, its own root
    assert cache.load_catalog(a).root == a.resolve()
    assert cache.load_catalog(b).root == b.resolve()
    assert len(list(home.glob("catalog-*.pickle"))) == 2
    assert cache.load_catalog(a).root == a.resolve()
    assert cache.load_catalog(b).root == b.resolve()
    assert loads == [a, b]


def test_the_bundled_data_is_cached_too(home: Path, loads: list[Path]) -> None:
    first = cache.load_catalog()
    assert cache.load_catalog() == first
    assert len(loads) == 1


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05N."])
def test_a_corrupt_entry_is_rebuilt(
    tmp_path: Path, home: Path, loads: list[Path], damage: bytes
) -> None:
    data = data_dir(tmp_path / "data")
    first = cache.load_catalog(data)
    (entry,) = home.glob("catalog-*.pickle")
    entry.write_bytes(damage)  # truncated, garbage, a pickle of None
    assert cache.load_catalog(data) == first
    assert len(loads) == 2
    assert entry.read_bytes() != damage  # written again
    assert cache.load_catalog(data) == first
    assert len(loads) == 2


def test_an_unwritable_cache_is_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[Path]
) -> None:
    blocker = tmp_path / "xdg"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    data = data_dir(tmp_path / "data")
    first = cache.load_catalog(data)
    assert cache.load_catalog(data) == first
    assert len(loads) == 2  # read each time, and never an error


def test_an_unreadable_entry_is_rebuilt(tmp_path: Path, home: Path, loads: list[Path]) -> None:
    data = data_dir(tmp_path / "data")
    first = cache.load_catalog(data)
    (entry,) = home.glob("catalog-*.pickle")
    entry.unlink()
    entry.mkdir()  # cannot be read, nor replaced: no cache, and no error
    assert cache.load_catalog(data) == first
    assert cache.load_catalog(data) == first
    assert len(loads) == 3


def test_bad_data_raises_and_is_not_cached(tmp_path: Path, home: Path) -> None:
    data = data_dir(tmp_path / "data", price='{ unit = "image", price = -1 }')
    for _ in range(2):
        with pytest.raises(pricing.RateCardError):
            cache.load_catalog(data)
    assert not list(home.glob("catalog-*.pickle"))


def test_no_data_directory_is_the_loaders_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(pricing.RateCardError, match="not a directory"):
        cache.load_catalog(tmp_path / "missing")


def test_pricing_no_cache_turns_it_off(
    tmp_path: Path, home: Path, loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    data = data_dir(tmp_path / "data")
    cache.load_catalog(data)
    cache.load_catalog(data)
    assert len(loads) == 2
    assert not home.exists()


def test_the_cache_home_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "pricing"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # not absolute: ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "pricing"


def test_the_command_line_uses_it(tmp_path: Path, home: Path) -> None:
    data = data_dir(tmp_path / "data")
    code = "import sys; from pricing.cli import app; sys.argv[0] = 'pricing'; app()"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code, "cards", "list", "--data", str(data), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert '"acme/m"' in done.stdout
    assert len(list(home.glob("catalog-*.pickle"))) == 1


def test_no_home_is_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[Path]
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")

    def nowhere() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", nowhere)
    data = data_dir(tmp_path / "data")
    assert cache.load_catalog(data) == cache.load_catalog(data)
    assert len(loads) == 2
