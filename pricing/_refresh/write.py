"""Write a refresh's additions: staged, validated by the project's loaders, then moved in place.

Nothing reaches the data directory unless the whole staged copy loads cleanly with
:func:`pricing._cards.loader.load_data`, :func:`pricing.load_gpus` and :func:`pricing.load_fx`, and
no file was changed by someone else while the refresh ran. Each file is then replaced
atomically (temp file beside it, ``os.replace``), ``sources.toml`` first so that every figure
written after it already has its source.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import datetime
from itertools import groupby
from pathlib import Path

from pricing._base.atomic import atomic_write
from pricing._cards.loader import load_data
from pricing._cards.schema import Source
from pricing._fx.store import CSV_HEADER, FX_DIR, fx_csv_line, load_fx
from pricing._gpus.gpus import load_gpus
from pricing._gpus.offers import GpuOffer
from pricing._refresh.additions import Additions
from pricing._refresh.toml_edit import (
    append_blocks,
    check_appended,
    edit_card,
    new_card_text,
    table,
)
from pricing.errors import RateCardError, RefreshError

SOURCES_FILE = "sources.toml"
GPU_OFFERS_FILE = "gpus/offers.toml"
FX_FILE = f"{FX_DIR}/ecb.csv"


class _Edits:
    """New text of each edited file, and the bytes it was based on (None: a new file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.before: dict[str, bytes | None] = {}
        self.after: dict[str, str] = {}

    def read(self, rel: str) -> str:
        if rel in self.after:
            return self.after[rel]
        path = self.root / rel
        data = path.read_bytes() if path.is_file() else None
        self.before[rel] = data
        try:
            return (data or b"").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RefreshError("refresh", f"data/{rel} is not UTF-8 text ({exc})") from None

    def new_file(self, rel: str, text: str) -> None:
        if (self.root / rel).exists():
            raise RefreshError("refresh", f"data/{rel} already exists; it would be overwritten")
        self.before[rel] = None
        self.after[rel] = text


def write_additions(
    root: Path, adds: Additions, sources: list[Source], fetched_at: datetime
) -> tuple[Path, ...]:
    """Append ``adds`` and their ``sources`` to the data directory ``root``; the files written.

    Raises
    ------
    RefreshError
        When an edit cannot be placed safely, the staged data does not validate (the message
        lists every problem) or a file changed during the refresh. Nothing is written then.
    """
    if not adds.writes:
        return ()
    stamp = f"added by `pricing refresh` on {fetched_at:%Y-%m-%d %H:%M} UTC"
    edits = _Edits(root)
    old = edits.read(SOURCES_FILE)
    text = append_blocks(old, [table("source", s) for s in sources], f"Sources {stamp}")
    check_appended(old, text, f"data/{SOURCES_FILE}", "source", Source, sources)
    edits.after[SOURCES_FILE] = text
    if adds.gpu_offers:
        text = old = edits.read(GPU_OFFERS_FILE)
        for sid, group in groupby(adds.gpu_offers, key=lambda o: o.source):
            blocks = [table("offer", o) for o in group]
            text = append_blocks(text, blocks, f"{len(blocks)} GPU offer(s) from {sid}, {stamp}")
        check_appended(old, text, f"data/{GPU_OFFERS_FILE}", "offer", GpuOffer, adds.gpu_offers)
        edits.after[GPU_OFFERS_FILE] = text
    for provider in sorted(set(adds.versions) | set(adds.offers)):
        rel = f"rate-cards/{provider}.toml"
        edits.after[rel] = edit_card(
            edits.read(rel),
            f"data/{rel}",
            adds.versions.get(provider, {}),
            adds.offers.get(provider, []),
            f"Offers {stamp}",
        )
    for provider, card in sorted(adds.cards.items()):
        edits.new_file(f"rate-cards/{provider}.toml", new_card_text(card))
    if adds.fx_rows:
        edits.after[FX_FILE] = _fx_text(edits.read(FX_FILE), adds)
    _validate_staged(root, edits.after)
    for rel, before in edits.before.items():
        path = root / rel
        now = path.read_bytes() if path.is_file() else None
        if now != before:
            raise RefreshError(
                "refresh",
                f"data/{rel} changed while the refresh ran; nothing was written, run it again",
            )
    _replace_all(root, edits)
    return tuple(root / rel for rel in edits.after)


def _replace_all(root: Path, edits: _Edits) -> None:
    """Move every edited file into place; interrupted (Ctrl-C, SIGTERM) or failed half way,
    put back the files already replaced, so the data is the old data or the new data."""
    done: list[str] = []
    try:
        for rel, new in edits.after.items():
            atomic_write(root / rel, new)
            done.append(rel)
    except BaseException:
        for rel in reversed(done):
            before = edits.before.get(rel)
            with contextlib.suppress(OSError):
                if before is None:
                    (root / rel).unlink()
                else:
                    atomic_write(root / rel, before)
        raise


def _fx_text(text: str, adds: Additions) -> str:
    """The CSV with the new rows appended (sorted by currency, then day); old rows untouched."""
    if not text.strip():
        text = ",".join(CSV_HEADER) + "\n"
    elif not text.endswith("\n"):
        text += "\n"
    rows = sorted(adds.fx_rows, key=lambda r: (r[1], r[0]))
    return text + "".join(fx_csv_line(d, c, r, s) + "\n" for d, c, r, s in rows)


def _validate_staged(root: Path, files: dict[str, str]) -> None:
    """Load a copy of ``root`` with ``files`` replaced, with the project's own loaders."""
    tmp = Path(tempfile.mkdtemp(prefix="pricing-refresh-"))
    try:  # removed however the run ends: an error, Ctrl-C, SystemExit from a SIGTERM handler
        stage = tmp / "data"
        try:
            shutil.copytree(root, stage, symlinks=True)
        except (OSError, shutil.Error) as exc:
            raise RefreshError(
                "refresh", f"cannot copy {root} to check the refreshed data ({exc})"
            ) from None
        for rel, text in files.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_bytes(text.encode("utf-8"))
        try:
            load_data(stage)
            load_gpus(stage)
            load_fx(stage)
        except RateCardError as exc:
            raise RefreshError(
                "refresh", f"the refreshed data does not validate, so nothing was written.\n{exc}"
            ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
