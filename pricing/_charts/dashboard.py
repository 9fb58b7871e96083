"""One dashboard per workload: the charts, a headline table, and their exports.

:func:`build_dashboard` simulates a workload and draws every chart of it, named with the
labels of its data set (:mod:`pricing._charts.labels`); :meth:`Dashboard.chart` composes them
into one Vega-Lite spec for a notebook (what-if sliders and linked selections working
together). :func:`export_dashboard` writes the page (:mod:`pricing._charts.page`: a first
screen that answers, then every chart as wide as the window) as a self-contained HTML file,
plus PNG, SVG and JSON per chart, and a PDF of the page where Chromium is installed.
``pricing dashboard`` wraps both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import altair as alt
import polars as pl

from pricing._base.atomic import atomic_write_all
from pricing._base.dates import to_date
from pricing._base.progress import Progress
from pricing._cards.catalog import Catalog
from pricing._charts.export import (
    DASHBOARD_FORMATS,
    FORMATS,
    check_formats,
    render,
    spec_json,
    spec_of,
)
from pricing._charts.labels import Labels, labels_for
from pricing._charts.page import dashboard_html
from pricing._charts.pdf import print_pdf
from pricing._charts.plans import fan_chart, spend_chart, tornado_chart
from pricing._charts.prices import (
    cost_heatmap,
    cost_per_image_chart,
    price_history_chart,
    request_title,
)
from pricing._charts.selfhost import break_even_chart, fleet_chart
from pricing._charts.theme import ShownIn
from pricing._dataset import DataSet, load_data_set, pick_catalog
from pricing._evidence.grades import TrustPolicy
from pricing._fx.convert import Conversion
from pricing._plan.breakeven import BreakEven
from pricing._plan.fx import WorkloadRate
from pricing._plan.simulate import Simulation, simulate
from pricing._plan.summary import (
    SegmentBreakEven,
    headline,
    main_segment,
    plan_notes,
    planned_request,
    segment_break_evens,
    self_hosted_segments,
)
from pricing._price.request import ImageRequest
from pricing._quote.compare import compare
from pricing._workloads.load import DEFAULT_WORKLOAD, load_workload
from pricing._workloads.model import Workload
from pricing.errors import PricingError

DEFAULT_SAMPLES = 1000
#: The currency of the bundled prices the price charts draw.
CATALOG_CURRENCY = "USD"

ChartLike = alt.Chart | alt.LayerChart | alt.FacetChart
DEFAULT_SEED = 0


@dataclass
class Dashboard:
    """Charts of one workload, ready to show in a notebook or export.

    Attributes
    ----------
    name : str
        File-friendly workload name (``ecommerce``).
    simulation : Simulation
        What the charts are drawn from (seed and as-of date included).
    headline : DataFrame
        Per segment: the option bought (cheapest in most months), its first-month and
        horizon cost, the cheapest hosted and self-hosted horizon costs, the probability that
        self-hosting is cheaper in the last month, and the break-even volume.
    charts : dict of str -> chart
        Every chart on its own (what is exported per chart), by file name, in page order.
    linked : dict of str -> chart
        The page's versions of charts that follow a selection made on another chart.
    break_evens : dict of str -> BreakEven
        Break-even per segment that has a self-hosted option.
    conversions : tuple of Conversion
        The exchange rates into the simulation's currency: the simulation's, month by month,
        then the one the price charts were converted at (the price day's); none in USD.
    workload : Workload, optional
        The workload simulated: the page states its assumptions.
    labels : Labels
        The names of the data set's models, providers, GPUs and sources.
    """

    name: str
    title: str
    simulation: Simulation
    headline: pl.DataFrame
    charts: dict[str, ChartLike]
    linked: dict[str, ChartLike] = field(default_factory=dict)
    break_evens: dict[str, BreakEven] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    conversions: tuple[Conversion, ...] = ()
    workload: Workload | None = None
    labels: Labels = field(default_factory=Labels)

    def chart(self) -> alt.VConcatChart:
        """Every chart in one page, parameters shared (sliders, linked selections)."""
        return alt.VConcatChart(
            vconcat=[self.linked.get(name, chart) for name, chart in self.charts.items()],
            usermeta={"workload": self.name, "as_of": self.simulation.as_of.isoformat()},
        ).properties(spacing=36)

    def spec(self) -> dict[str, object]:
        """Vega-Lite spec of the whole page, theme included."""
        return spec_of(self.chart())

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> object:
        return self.chart()._repr_mimebundle_(include, exclude)


def build_dashboard(
    workload: Workload | str | Path | None = None,
    catalog: Catalog | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    as_of: date | str | None = None,
    budget: float | None = None,
    progress: Progress | None = None,
    data: DataSet | None = None,
    evidence: TrustPolicy | str | None = None,
    currency: str | None = None,
    fx: Iterable[str] | Mapping[str, object] | None = None,
    max_fx_age_days: int = 7,
) -> Dashboard:
    """Simulate a workload and build every chart of its dashboard.

    Parameters
    ----------
    workload : Workload, name or path, optional
        Default: the bundled default workload (``ecommerce``).
    samples, seed : int
        Monte Carlo samples for the fan and tornado charts; fixed seed, so that a rebuilt
        dashboard is identical.
    as_of : date, optional
        Prices in force on this day (default: today, UTC). Recorded in the spec.
    budget : float, optional  [currency/month]
        Budget line on the spend chart.
    progress : callable, optional
        ``progress(done, total, label)`` of the simulation (see :func:`pricing.simulate`).
    data : DataSet, optional
        Where prices, GPU offers, throughput, licences and workload names come from (default:
        the bundled ``data/``).
    evidence : TrustPolicy or str, optional
        Which prices may set the figures (default: the workload's ``evidence``); the rest are
        listed under the headline as unverified leads, with their reasons.
    currency, fx, max_fx_age_days : optional
        The currency of every figure (default: the workload's) and your exchange rates, as
        :func:`pricing.simulate` takes them; the price charts are converted at the rate of
        ``as_of``. The page states every rate used.
    """
    target = workload if workload is not None else DEFAULT_WORKLOAD
    cat = pick_catalog(catalog, data)
    ds = data if data is not None else load_data_set()
    work = target if isinstance(target, Workload) else load_workload(target, cat, data=data)
    day = to_date(as_of)
    sim = simulate(
        work, cat, samples=samples, seed=seed, as_of=day, progress=progress, data=data,
        evidence=evidence, currency=currency, fx=fx, max_fx_age_days=max_fx_age_days,
    )  # fmt: skip
    policy = TrustPolicy.parse(evidence if evidence is not None else work.evidence)
    segments = {s.name: s for s in work.segments}
    names = labels_for(ds)
    found = segment_break_evens(work, sim, cat, ds)
    main = main_segment(sim, segments) or work.segments[0].name
    notes = list(sim.notes) + plan_notes(sim)
    notes += [n for f in found.values() for n in f.result.notes]
    charts, linked = _simulation_charts(sim, main, budget, names)
    notes += _self_hosting_charts(work, sim, found, (charts, linked), names)
    shown_in, price_rate = _price_rate(sim, day)
    request = planned_request(sim, segments[main])
    _price_charts(request, cat, day, (charts, linked), policy, shown_in, names)
    break_evens = {name: f.result for name, f in found.items()}
    return Dashboard(
        name=dashboard_name(target),
        title=work.name,
        simulation=sim,
        headline=headline(sim, break_evens),
        charts=charts,
        linked=linked,
        break_evens=break_evens,
        notes=tuple(dict.fromkeys(notes)),
        conversions=(*sim.conversions, *price_rate),
        workload=work,
        labels=names,
    )


def _self_hosting_charts(
    work: Workload,
    sim: Simulation,
    found: dict[str, SegmentBreakEven],
    pages: tuple[dict[str, ChartLike], dict[str, ChartLike]],
    names: Labels,
) -> list[str]:
    """The break-even and fleet charts of the main self-hosted segment, into ``pages`` (the
    charts, and the page's versions); the notes of what could not be drawn."""
    charts, linked = pages
    main_self = main_segment(sim, self_hosted_segments(sim))
    if main_self is not None and main_self in found:
        pick = found[main_self]
        drawn = {
            "gpu_hour": pick.gpu_hour,
            "currency": sim.currency,
            "label": break_even_label(pick.label, names),
        }
        charts["break-even"] = break_even_chart(pick.result, **drawn)  # type: ignore[arg-type]
        linked["break-even"] = break_even_chart(pick.result, live=True, **drawn)  # type: ignore[arg-type]
    if main_self is None or work.self_hosting is None:
        return ["no segment has a feasible self-hosted option: no fleet chart"]
    terms = sim.hosting_terms(main_self)
    charts["fleet"] = fleet_chart(
        sim,
        segment=main_self,
        peak_to_mean=terms.peak_to_mean,
        max_utilisation=terms.max_utilisation,
        labels=names,
    )
    return []


def break_even_label(label: str, names: Labels) -> str:
    """A segment break-even's label (``"shots: flux-1-dev on runpod/h100-... vs
    deepinfra/flux-1-dev"``) in words; as it is when it does not read so."""
    head, vs, offer = label.rpartition(" vs ")
    head, on, gpu_offer = head.rpartition(" on ")
    segment, colon, model = head.rpartition(": ")
    if not (vs and on and colon):
        return names.words(label)
    setup = names.option({"mode": "dedicated", "model": model, "offer_id": gpu_offer})
    return f"{segment}: {setup} against {names.hosted(offer)}"


#: Names Windows keeps for devices: a folder cannot be called so there.
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}


def dashboard_name(workload: Workload | str | Path) -> str:
    """The folder name of a workload's dashboard: its file's stem (``ecommerce``), or the
    lowercased name of a :class:`Workload`, made a :func:`safe_name`."""
    text = Path(workload).stem if isinstance(workload, str | Path) else workload.name.lower()
    return safe_name(text)


def safe_name(text: str) -> str:
    """``text`` as a safe file name: whatever it is (``../..``, ``..``, ``a/b``, ``<b>``), one
    new name inside the output folder.

    Only ASCII letters, digits, ``-``, ``_`` and ``.`` are kept (accents dropped, any other
    run becomes one ``-``), never a ``.`` or ``-`` at either end, at most 80 characters, never
    a Windows device name; a name with nothing left becomes ``workload``.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text).strip(".-")[:80].rstrip(".-")
    if slug.split(".")[0].lower() in _RESERVED:
        slug = f"workload-{slug}"
    return slug or "workload"


def dashboard_folder(out: str | Path, name: str) -> Path:
    """``out/<name>`` for the files of a dashboard, checked to stay inside ``out``.

    Raises
    ------
    PricingError
        ``name`` is not a plain folder name, or ``out/<name>`` is a link that leads out of
        ``out``, or is a file.
    """
    root = Path(out)
    folder = root / name
    if name != safe_name(name):
        raise PricingError(
            f"dashboard name {name!r} is not a plain folder name; use safe_name() for one"
        )
    if not folder.resolve().is_relative_to(root.resolve()):
        raise PricingError(
            f"{folder} leads outside {root} (to {folder.resolve()}); remove that link or "
            "choose another output folder"
        )
    if folder.exists() and not folder.is_dir():
        raise PricingError(f"{folder} is a file; move it away or choose another output folder")
    return folder


def _simulation_charts(
    sim: Simulation, main: str, budget: float | None, names: Labels
) -> tuple[dict[str, ChartLike], dict[str, ChartLike]]:
    """Spend, fan and tornado charts of the main segment, and the linked copies of the page."""
    charts: dict[str, ChartLike] = {"spend": spend_chart(sim, budget=budget, labels=names)}
    linked: dict[str, ChartLike] = {}
    if sim.bands is not None:
        charts["fan"] = fan_chart(sim, segment=main, labels=names)
    if sim.sensitivity is not None and sim.bands is not None:
        charts["tornado"] = tornado_chart(sim, segment=main, labels=names)
        linked["tornado"] = tornado_chart(sim, segment=main, linked=True, labels=names)
    return charts, linked


def _price_rate(sim: Simulation, day: date) -> tuple[ShownIn | None, tuple[Conversion, ...]]:
    """How the price charts (in the catalog's USD) are drawn in the simulation's currency:
    at the rate of the price day ``day`` (yours, the ECB's, else a planning rate)."""
    if sim.currency == CATALOG_CURRENCY or sim.rates is None:
        return None, ()
    made = sim.rates.on([day]).months(CATALOG_CURRENCY)[0].conversion
    if isinstance(made, WorkloadRate) and made.sampled:  # one rate for every price drawn
        made = replace(made, sampled=False, given=f"{made.given}, at its centre")
    said = f"{made.describe()}, for every price drawn"
    return ShownIn(sim.currency, CATALOG_CURRENCY, float(made.rate), said), (made,)


def _price_charts(
    request: ImageRequest,
    cat: Catalog,
    day: date,
    pages: tuple[dict[str, ChartLike], dict[str, ChartLike]],
    policy: TrustPolicy,
    shown_in: ShownIn | None,
    names: Labels,
) -> None:
    """Cost per image, heatmap and price history of the main segment's planned request,
    into ``pages`` (the charts, and the page's linked copies)."""
    charts, linked = pages
    # Priced once; the page's copy highlights the provider clicked on the heatmap. Leads
    # (offers only excluded prices can price) are not drawn: they are listed on the page.
    offers = compare(request, cat, as_of=day, evidence=policy).filter(pl.col("lead").is_null())
    title = request_title(request, names)
    shown = {"title": title, "shown_in": shown_in, "labels": names}
    charts["cost-per-image"] = cost_per_image_chart(offers, **shown)  # type: ignore[arg-type]
    linked["cost-per-image"] = cost_per_image_chart(offers, linked_heatmap=True, **shown)  # type: ignore[arg-type]
    charts["heatmap"] = cost_heatmap(
        request.model, cat, operation=request.operation, as_of=day, shown_in=shown_in,
        labels=names,
    )  # fmt: skip
    charts["price-history"] = price_history_chart(
        request, cat, until=day, shown_in=shown_in, labels=names
    )


def export_dashboard(
    board: Dashboard,
    out: str | Path = "dashboards",
    formats: Iterable[str] = FORMATS,
) -> list[Path]:
    """Write ``out/<name>/``: ``index.html`` (the whole page, self-contained),
    ``dashboard.json`` (the charts in one spec), per chart ``<chart>.png``, ``.svg``,
    ``.json``, and with ``pdf`` among ``formats``, ``dashboard.pdf`` (the page printed by a
    headless Chromium; :class:`PricingError` when none is installed, see
    :func:`pricing._charts.pdf.find_chromium`).

    Everything is rendered before anything is written, and the files are written all or none
    (each replaced atomically): a full disk leaves the previous export as it was.
    """
    chosen = check_formats(formats, DASHBOARD_FORMATS)
    folder = dashboard_folder(out, safe_name(board.name))
    sim = board.simulation
    meta = (
        f"Workload {board.name} · prices as of {sim.as_of.isoformat()} ({sim.evidence}) · "
        f"{sim.samples:,} "
        f"samples, seed {sim.seed} · currency {sim.currency} · built by `pricing dashboard`"
    )
    files: list[tuple[Path, bytes | str]] = []
    pictures: dict[str, bytes | str] = {}
    for name, chart in board.charts.items():
        one = spec_of(chart)
        for fmt in chosen:
            if fmt == "json":
                files.append((folder / f"{name}.json", spec_json(one)))
            elif fmt in ("png", "svg"):
                pictures[f"{name}.{fmt}"] = render(one, fmt)
    files += [(folder / file, content) for file, content in pictures.items()]
    if "json" in chosen:
        files.append((folder / "dashboard.json", spec_json(board.spec())))
    if "html" in chosen or "pdf" in chosen:
        page = dashboard_html(board, meta, pictures="png" in chosen)
        if "html" in chosen:
            files.insert(0, (folder / "index.html", page))
        if "pdf" in chosen:
            files.append((folder / "dashboard.pdf", print_pdf(page, pictures)))
    atomic_write_all(files)
    return [path for path, _ in files]
