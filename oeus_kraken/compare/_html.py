"""A comparison as one self-contained HTML page: the ranking, a chart of each product's monthly
cost, the usage shape, and the EFL and bill checks.

Self-contained means it works offline and alone: no script at all, no external style sheet,
font or image; the charts are inline SVG drawn here, the styles one inline `<style>`, the fonts
the reader's own. It reads on a phone (tables scroll inside their box, charts scale to the width)
and prints (`@media print`: no scroll boxes, no section split across pages). Every text from the
API is escaped. Money is shown in dollars and cents, rates in cents per kWh, usage in kWh.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .._errors import ConfigurationError
from ..usage._files import replaced_file
from ..usage._store import BESIDE_THE_STORE
from ._document import average_text, decimal_text
from ._models import EFL_TOLERANCE, Comparison, EflCheck, HourlyShape, ProductCost, exact

__all__ = ["comparison_html", "write_html"]

# Distinguishable on screen and in greyscale print (with the dash patterns after ten products).
_PALETTE = (
    "#1b6ca8",
    "#d1495b",
    "#2a9d8f",
    "#e9a03b",
    "#6a4c93",
    "#3d5a80",
    "#8d6a1f",
    "#c2185b",
    "#2e7d32",
    "#5d6d7e",
)
_DASHES = ("", "6 3", "2 3")
_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP, _RIGHT = 720, 300, 64, 36, 16, 16

_STYLE = """
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --line: #d9dee3; --bad: #b3261e;
  --good: #1e6b34; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.45rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
p, li { max-width: 72ch; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; white-space: nowrap; }
.nowrap { white-space: nowrap; }
tr.current td { background: #eef5fb; font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); }
figure { margin: 12px 0; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; list-style: none;
  font-size: 0.9rem; }
.legend span { display: inline-block; width: 18px; height: 4px; margin-right: 6px;
  vertical-align: middle; }
.small-multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
  gap: 8px 16px; }
.small-multiples h3 { font-size: 0.95rem; margin: 6px 0 0; }
svg text { font: 11px system-ui, sans-serif; fill: #5b6670; }
@media (max-width: 600px) {
  body { font-size: 14px; }
  main { padding: 10px; }
  th, td { padding: 5px 6px; }
}
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .scroll { overflow: visible; }
  section, figure, table { break-inside: avoid; }
  tr.current td { background: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _dollars(cents: Decimal | None, *, signed: bool = False) -> str:
    if cents is None:
        return "—"
    amount = (cents / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else "+" if signed and amount > 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _cents(whole: int | None) -> Decimal | None:
    return None if whole is None else Decimal(whole)


def _month_label(month: date) -> str:
    return f"{month:%b %Y}"


def _style_of(index: int) -> tuple[str, str]:
    return _PALETTE[index % len(_PALETTE)], _DASHES[index // len(_PALETTE) % len(_DASHES)]


# -- the ranking -----------------------------------------------------------------------------------


def _versus(comparison: Comparison, cost: ProductCost) -> str:
    if cost.current:
        return "current product"
    versus = comparison.versus_current_whole_cents(cost)  # the difference of the totals shown
    if versus is None:
        return "—"
    if versus < 0:
        return f'<span class="good">saves {_dollars(-versus)}</span>'
    if versus > 0:
        return f"costs {_dollars(versus)} more"
    return "the same"


def _notes(cost: ProductCost) -> str:
    rates = cost.rates
    notes = []
    if rates.unpriced:
        notes.append(f"not priced: {rates.unpriced}")
    if rates.time_of_use:
        bands = ", ".join(f"{band} {decimal_text(v)}¢" for band, v in rates.energy.items())
        notes.append(f"time of use ({bands})")
    if rates.wholesale:
        notes.append("wholesale: priced at its quoted average rate")
    if rates.prepay:
        notes.append("prepaid")
    return _e("; ".join(notes))


def _ranking(comparison: Comparison) -> str:
    rows = []
    for cost in comparison.products:
        total = cost.total_cents
        rows.append(
            f'<tr data-product-id="{_e(cost.rates.id)}" data-rank="{cost.rank or ""}" '
            f'data-total-cents="{_e(decimal_text(total) or "")}"'
            f"{' class=current' if cost.current else ''}>"
            f"<td class=n>{cost.rank or '—'}</td>"
            f"<td>{_e(cost.rates.name)}{' ★' if cost.current else ''}</td>"
            f"<td class=n>{_dollars(total)}</td>"
            f"<td class=n>{_e(average_text(cost.average_cents_per_kwh) or '—')}</td>"
            f"<td>{_versus(comparison, cost)}</td>"
            f"<td>{_notes(cost)}</td></tr>"
        )
    return (
        '<div class="scroll"><table id="ranking"><thead><tr><th class=n>rank</th>'
        "<th>product</th><th class=n>total</th><th class=n>average ¢/kWh</th>"
        "<th>against the current product</th><th>notes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


# -- charts ----------------------------------------------------------------------------------------


def _round_up(value: Decimal) -> Decimal:
    """A round number at least `value` (> 0): 1, 2, ..., 10, 20, ..., 100, 200, ..."""
    step = Decimal(10) ** (len(str(int(value))) - 1)
    return (value / step).to_integral_value(rounding="ROUND_CEILING") * step


def _span(values: Iterable[Decimal]) -> tuple[Decimal, Decimal]:
    """Round ends (bottom, top) for an axis over `values`, with 0 on it: the bottom is below 0
    only when a value is (a month that costs less than nothing after a credit, or a household
    that sends more to the grid than it takes), so that no mark is drawn outside its chart."""
    found = list(values)
    low, high = min(found, default=Decimal(0)), max(found, default=Decimal(0))
    bottom = -_round_up(-low) if low < 0 else Decimal(0)
    top = _round_up(high) if high > 0 else Decimal(0)
    return bottom, (top if top > bottom else Decimal(1))


def _y(value: Decimal, span: tuple[Decimal, Decimal], top: float, height: float) -> float:
    """Where `value` goes on an axis over `span` drawn from `top` down `height` units."""
    bottom, high = span
    return top + height * float((high - value) / (high - bottom))


def _axes(span: tuple[Decimal, Decimal], label: str, ticks: int = 4) -> str:
    parts = []
    inner = _HEIGHT - _TOP - _BOTTOM
    for i in range(ticks + 1):
        value = span[0] + (span[1] - span[0]) * i / ticks
        y = _y(value, span, _TOP, inner)
        text = label.format(abs(value))
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e6e9ec"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{'-' if value < 0 else ''}{_e(text)}</text>"
        )
    if span[0] < 0:  # zero need not be a tick: its line, darker
        zero = _y(Decimal(0), span, _TOP, inner)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}" '
            'stroke="#8a949c"/>'
        )
    return "".join(parts)


def _x_labels(labels: Sequence[str]) -> str:
    step = (_WIDTH - _LEFT - _RIGHT) / max(len(labels), 1)
    every = max(1, len(labels) // 12)
    return "".join(
        f'<text x="{_LEFT + step * (i + 0.5):.1f}" y="{_HEIGHT - 12}" text-anchor="middle">'
        f"{_e(label)}</text>"
        for i, label in enumerate(labels)
        if i % every == 0
    )


def _svg(body: str, title: str, height: int = _HEIGHT) -> str:
    return (
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>{body}</svg>'
    )


def _cost_chart(comparison: Comparison) -> str:
    priced = [p for p in comparison.products if p.priced and p.months]
    months = [m.month for m in comparison.usage.months]
    span = _span(m.total_cents / 100 for p in priced for m in p.months)
    inner_h, step = _HEIGHT - _TOP - _BOTTOM, (_WIDTH - _LEFT - _RIGHT) / max(len(months), 1)
    lines, legend = [], []
    for i, cost in enumerate(priced):
        color, dash = _style_of(i)
        ys = [_y(m.total_cents / 100, span, _TOP, inner_h) for m in cost.months]
        points = " ".join(f"{_LEFT + step * (n + 0.5):.1f},{y:.1f}" for n, y in enumerate(ys))
        width = 3.5 if cost.current else 2
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        dots = "".join(
            f'<circle cx="{_LEFT + step * (n + 0.5):.1f}" cy="{y:.1f}" r="3" '
            f'fill="{color}"><title>{_e(cost.rates.name)}, {_e(_month_label(m.month))}: '
            f"{_dollars(m.total_cents)}</title></circle>"
            for n, (y, m) in enumerate(zip(ys, cost.months, strict=True))
        )
        lines.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" '
            f'stroke-width="{width}"{dashing}><title>{_e(cost.rates.name)}</title></polyline>'
            + dots
        )
        legend.append(
            f'<li><span style="background:{color}"></span>{_e(cost.rates.name)}'
            f"{' ★' if cost.current else ''}</li>"
        )
    body = _axes(span, "${:,.0f}") + _x_labels([f"{m:%b %y}" for m in months]) + "".join(lines)
    return (
        f"<figure>{_svg(body, 'Monthly cost of each product, dollars before tax')}"
        f'<ul class="legend">{"".join(legend)}</ul>'
        "<figcaption>Each product's cost month by month for this usage, dollars before tax "
        "(★ the current product).</figcaption></figure>"
    )


def _usage_chart(comparison: Comparison) -> str:
    months = comparison.usage.months
    # Night from 0 to its kWh, day stacked from there to the month's kWh: a bar runs between
    # two heights, drawn from the upper one down (a negative height is no SVG).
    span = _span(v for m in months for v in (m.kwh, m.night_kwh, Decimal(0)))
    inner_h, step = _HEIGHT - _TOP - _BOTTOM, (_WIDTH - _LEFT - _RIGHT) / max(len(months), 1)
    bars = []
    for n, month in enumerate(months):
        x = _LEFT + step * n + step * 0.15
        zero, night, whole = (
            _y(v, span, _TOP, inner_h) for v in (Decimal(0), month.night_kwh, month.kwh)
        )
        flag = f", {month.missing_intervals} intervals missing" if month.missing_intervals else ""
        bars.append(
            f'<rect x="{x:.1f}" y="{min(night, whole):.1f}" width="{step * 0.7:.1f}" '
            f'height="{abs(whole - night):.1f}" fill="#e9a03b"><title>'
            f"{_e(_month_label(month.month))}: day "
            f"{decimal_text(month.day_kwh)} kWh{_e(flag)}</title></rect>"
            f'<rect x="{x:.1f}" y="{min(zero, night):.1f}" width="{step * 0.7:.1f}" '
            f'height="{abs(night - zero):.1f}" fill="#3d5a80"><title>'
            f"{_e(_month_label(month.month))}: "
            f"night {decimal_text(month.night_kwh)} kWh</title></rect>"
        )
        if month.missing_intervals:
            bars.append(
                f'<text x="{x + step * 0.35:.1f}" y="{max(min(zero, night, whole) - 4, 10):.1f}" '
                'text-anchor="middle" fill="#b3261e">gap</text>'
            )
    body = _axes(span, "{:,.0f} kWh") + _x_labels([f"{m.month:%b %y}" for m in months])
    return (
        f"<figure>{_svg(body + ''.join(bars), 'Usage per month, day and night, kWh')}"
        '<ul class="legend"><li><span style="background:#e9a03b"></span>day</li>'
        f'<li><span style="background:#3d5a80"></span>night ({_e(comparison.night)})</li></ul>'
        "<figcaption>kWh per month, split into the night band and the rest of the day; "
        "“gap”: the month has missing intervals.</figcaption></figure>"
    )


def _day_chart(shape: HourlyShape, span: tuple[Decimal, Decimal]) -> str:
    width, height, left, bottom = 240, 130, 34, 20
    inner_w, inner_h = width - left - 6, height - bottom - 8

    def line(values: Sequence[Decimal] | None, color: str, dash: str) -> str:
        if values is None:
            return ""
        points = " ".join(
            f"{left + inner_w * h / 23:.1f},{_y(v, span, 8, inner_h):.1f}"
            for h, v in enumerate(values)
        )
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dashing}/>'
        )

    axis = (
        f'<text x="{left - 4}" y="14" text-anchor="end">{_e(decimal_text(span[1]))}</text>'
        f'<text x="{left - 4}" y="{8 + inner_h}" text-anchor="end">'
        f"{_e(decimal_text(span[0]))}</text>"
        + "".join(
            f'<text x="{left + inner_w * h / 23:.1f}" y="{height - 4}" text-anchor="middle">'
            f"{h:02d}</text>"
            for h in (0, 6, 12, 18, 23)
        )
    )
    title = f"{_month_label(shape.month)}: the average day, kWh per hour"
    return (
        f"<div><h3>{_e(_month_label(shape.month))}</h3>"
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>{axis}'
        f"{line(shape.weekday, '#1b6ca8', '')}{line(shape.weekend, '#d1495b', '5 3')}</svg></div>"
    )


def _shapes(comparison: Comparison) -> str:
    shapes = comparison.usage.shapes
    span = _span(v for s in shapes for values in (s.weekday, s.weekend) if values for v in values)
    return (
        '<div class="small-multiples">' + "".join(_day_chart(s, span) for s in shapes) + "</div>"
        '<ul class="legend"><li><span style="background:#1b6ca8"></span>weekdays</li>'
        '<li><span style="background:#d1495b"></span>weekends</li></ul>'
        "<p class=muted>The average day of each month, kWh per local clock hour (0 to 23).</p>"
    )


# -- tables ----------------------------------------------------------------------------------------


def _month_table(comparison: Comparison) -> str:
    months = comparison.usage.months
    head = "".join(f"<th class=n>{_e(f'{m.month:%b %Y}')}</th>" for m in months)
    rows = []
    for cost in comparison.products:
        if not cost.priced:
            continue
        cells = "".join(f"<td class=n>{_dollars(m.total_cents)}</td>" for m in cost.months)
        rows.append(f"<tr><td>{_e(cost.rates.name)}</td>{cells}</tr>")
    usage = "".join(f"<td class=n>{decimal_text(m.kwh.quantize(Decimal(1)))}</td>" for m in months)
    missing = "".join(
        f"<td class=n{' bad' if m.missing_intervals else ''}>{m.missing_intervals}</td>"
        for m in months
    )
    return (
        "<details><summary>Every month's cost, as a table</summary>"
        f'<div class="scroll"><table id="months"><thead><tr><th>product</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}<tr><td class=muted>usage, kWh</td>{usage}</tr>"
        f"<tr><td class=muted>missing intervals</td>{missing}</tr></tbody></table></div>"
        "</details>"
    )


def _gaps(comparison: Comparison) -> str:
    flagged = [m for m in comparison.usage.months if m.missing_intervals]
    if not flagged:
        return "<p>Every interval of the period is in the store.</p>"
    items = "".join(
        f'<li><span class="bad">{_e(_month_label(m.month))}</span>: {m.missing_intervals:,} of '
        f"{m.expected_intervals:,} intervals missing; priced from the {m.intervals:,} stored, "
        "so its costs are understated.</li>"
        for m in flagged
    )
    return f"<ul>{items}</ul>"


def _verdict(holds: bool | None, difference: Decimal | None, skipped: str | None) -> str:
    if holds is None:
        return f'<span class="muted">skipped: {_e(skipped)}</span>'
    if holds:
        return f'<span class="good">✓ within {EFL_TOLERANCE}¢</span>'
    return f'<span class="bad">✗ off by {_e(decimal_text(difference))}¢</span>'


def _efl_summary(check: EflCheck) -> str:
    differences = [abs(f.difference) for f in check.figures if f.difference is not None]
    worst = max(differences, default=None)
    skipped = len(check.figures) - check.checked
    result = (
        f'<span class="bad">✗ {len(check.failures)} figure(s) off</span>'
        if not check.holds
        else '<span class="good">✓ holds</span>'
        if check.checked
        else "— nothing checked"  # every figure skipped: no ✓ for what was never compared
    )
    return (
        f'<tr{" class=bad" if not check.holds else ""} data-product-id="{_e(check.product_id)}">'
        f"<td>{_e(check.product_name)}</td><td class=n>{check.checked}</td>"
        f"<td class=n>{skipped}</td><td class=n>{_e(decimal_text(worst) or '—')}</td>"
        f"<td>{result}</td></tr>"
    )


def _efl_figures(comparison: Comparison) -> str:
    rows = [
        f"<tr{' class=bad' if f.holds is False else ''}><td>{_e(check.product_name)}</td>"
        f"<td class=n>{_e(decimal_text(f.kwh_usage))}</td><td>{_e(f.name)}</td>"
        f"<td class=n>{_e(decimal_text(f.api_cents_per_kwh) or '—')}</td>"
        f"<td class=n>{_e(average_text(f.computed_cents_per_kwh) or '—')}</td>"
        f"<td>{_verdict(f.holds, f.difference, f.skipped)}</td></tr>"
        for check in comparison.efl
        for f in check.figures
    ]
    return (
        "<details><summary>Every figure</summary>"
        '<div class="scroll"><table id="efl-figures"><thead><tr><th>product</th>'
        "<th class=n>kWh a month</th><th>figure</th><th class=n>API ¢/kWh</th>"
        "<th class=n>from the parts ¢/kWh</th><th>check</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></details>"
    )


def _efl_table(comparison: Comparison) -> str:
    failed = sum(len(c.failures) for c in comparison.efl)
    summary = (
        f'<p class="bad">{failed} figure(s) differ from the rate parts by more than '
        f"{EFL_TOLERANCE}¢/kWh.</p>"
        if failed
        else f"<p class=good>Every figure checked is within {EFL_TOLERANCE}¢/kWh.</p>"
        if any(c.checked for c in comparison.efl)
        else "<p>No figure could be checked: see why under “Every figure”.</p>"
    )
    return (
        summary + '<div class="scroll"><table id="efl"><thead><tr><th>product</th>'
        "<th class=n>figures checked</th><th class=n>skipped</th>"
        "<th class=n>largest difference ¢/kWh</th><th>result</th></tr></thead><tbody>"
        + "".join(_efl_summary(check) for check in comparison.efl)
        + "</tbody></table></div>"
        + _efl_figures(comparison)
    )


def _bill_table(comparison: Comparison) -> str:
    check = comparison.bills
    if check.skipped:
        return f"<p class=muted>No bill check: {_e(check.skipped)}.</p>"
    rows = []
    for bill in check.bills:
        verdict = {True: "✓", False: "✗", None: "—"}[bill.matches]
        rows.append(
            f"<tr{' class=bad' if bill.matches is False else ''}>"
            f'<td class="nowrap">{_e(bill.from_date)} to {_e(bill.to_date)}</td>'
            f"<td class=n>{_dollars(_cents(bill.billed_cents))}</td>"
            f"<td class=n>{_dollars(bill.modelled_cents)}</td>"
            f"<td class=n>{_dollars(bill.difference_cents, signed=True)}</td>"
            f"<td>{verdict}</td><td>{_e(bill.note or '')}</td></tr>"
        )
    return (
        '<div class="scroll"><table id="bills"><thead><tr><th>billing period</th>'
        "<th class=n>billed, before tax</th><th class=n>modelled</th>"
        "<th class=n>difference</th><th>matches</th><th>note</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
        + (f"<p class=bad>{_e(check.note)}.</p>" if check.note else "")
    )


def _heading(comparison: Comparison) -> str:
    area = " · ".join(
        _e(part) for part in (comparison.service_provider, comparison.load_zone) if part
    )
    current = comparison.current
    current_text = (
        _e(current.rates.name) if current else _e(comparison.current_product_code or "not known")
    )
    return (
        f"<h1>What your usage would have cost on every plan</h1>"
        f'<p class="muted">ESI ID {_e(comparison.esi_id)}'
        f"{' · account ' + _e(comparison.account_number) if comparison.account_number else ''}"
        f"{' · ' + area if area else ''} · {_e(comparison.first)} to {_e(comparison.last)} "
        f"(Texas local dates) · {decimal_text(comparison.usage.kwh.quantize(Decimal(1)))} kWh"
        f" · current product: {current_text}</p>"
    )


@exact
def comparison_html(comparison: Comparison) -> str:
    """The comparison as one self-contained HTML page."""
    cheapest = comparison.cheapest
    lead = (
        f"<p>Cheapest for this usage: <strong>{_e(cheapest.rates.name)}</strong>, "
        f"{_dollars(cheapest.total_cents)} before tax.</p>"
        if cheapest
        else ""
    )
    sections = [
        _heading(comparison),
        lead,
        "<section><h2>Ranking</h2>" + _ranking(comparison) + "</section>",
        "<section><h2>Monthly cost per product</h2>"
        + _cost_chart(comparison)
        + _month_table(comparison)
        + "</section>",
        "<section><h2>Your usage</h2>"
        + _usage_chart(comparison)
        + _shapes(comparison)
        + _gaps(comparison)
        + "</section>",
        "<section><h2>Electricity Facts Label check</h2><p>Each product's average price at "
        "500, 1,000 and 2,000 kWh a month as the API states it, beside the same worked out "
        "from its rate parts: energy + TDSP per kWh + (TDSP per month + fees) ÷ kWh.</p>"
        + _efl_table(comparison)
        + "</section>",
        "<section><h2>Bill check</h2><p>The current product priced over each bill's period, "
        "beside the bill's charges before tax.</p>" + _bill_table(comparison) + "</section>",
        "<section><h2>How it is worked out</h2><p>For each product and each local calendar "
        "month: the month's kWh in each time-of-use band &times; that band's energy rate, plus "
        "kWh &times; the TDSP's delivery rate, plus the TDSP's monthly charge and the "
        "product's monthly fees. Costs are before tax.</p><ul>"
        + "".join(f"<li>{_e(a)}</li>" for a in comparison.assumptions)
        + "</ul></section>",
        f'<p class="muted">Made {comparison.made_at:%Y-%m-%d %H:%M} UTC by oeus-kraken from '
        f"the local usage store and {comparison.requests} API requests.</p>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Plan comparison for ESI ID {_e(comparison.esi_id)}</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        + "".join(sections)
        + "</main></body></html>\n"
    )


def _refuse_a_store(target: Path) -> None:
    """The CLI checks `--html` against its store (`UsageStore.check_out`), but a library caller
    gives no store here: refuse any file that is a SQLite database, or one SQLite or the sync
    lock keeps beside one, which a page renamed into place would destroy."""
    for end in ("", *BESIDE_THE_STORE):
        if end and not target.name.endswith(end):
            continue
        database = target.with_name(target.name.removesuffix(end)) if end else target
        try:
            with database.open("rb") as file:
                is_sqlite = file.read(16) == b"SQLite format 3\x00"
        except OSError:  # absent, a folder, unreadable: replaced_file says what is wrong
            continue
        if is_sqlite:
            raise ConfigurationError(
                f"{target} is the SQLite database {database} (a usage store?), or a file of it: "
                "writing the page there would replace it; give the page another name"
            )


def write_html(comparison: Comparison, path: str | os.PathLike[str]) -> Path:
    """Write the page to `path`, readable by its owner only (it describes a household's usage),
    replacing the file only once complete (`usage._files.replaced_file`, as for an export:
    a full disk is a UsageStoreError and leaves the earlier page); returns the path."""
    target = Path(path)
    _refuse_a_store(target)
    page = comparison_html(comparison)
    with replaced_file(target) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return target
