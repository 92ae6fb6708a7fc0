"""A SchemaDiff three ways: text for a terminal, Markdown for a pull-request comment, JSON for
programs.

The text and Markdown list every breaking and dangerous change, and the first SAFE_SHOWN safe
ones (a new schema can add hundreds of types; JSON lists them all); then each operation with
its verdict, and under a breaking or deprecated one, each break (file:line, the element, what
failed, the change that caused it) and each deprecated element with its reason. The last line
of the text is the verdict.
"""

from __future__ import annotations

from typing import Any

from ._changes import GROUPS, SchemaChange
from ._diff import Break, OperationVerdict, SchemaDiff
from ._operations import Location
from ._sources import one_line, shown_reason
from ._walk import DeprecatedUse

__all__ = ["SAFE_SHOWN", "render_json", "render_markdown", "render_text", "verdict_line"]

SAFE_SHOWN = 20
SKIPPED_NAMED = 10  # skipped operations named in the text; JSON names them all


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _shown(diff: SchemaDiff, group: str) -> tuple[list[SchemaChange], int]:
    """The changes of `group` a report lists, and how many it leaves out."""
    changes = list(diff.group(group))  # type: ignore[arg-type]
    if group != "safe" or len(changes) <= SAFE_SHOWN:
        return changes, 0
    return changes[:SAFE_SHOWN], len(changes) - SAFE_SHOWN


def _folders(diff: SchemaDiff) -> str:
    return ", ".join(diff.folders) or "no folders"


def verdict_line(diff: SchemaDiff) -> str:
    """One sentence: whether any operation breaks or uses a deprecated element, and which."""
    broken = [op.name for op in diff.with_verdict("breaks")]
    deprecated = [op.name for op in diff.with_verdict("deprecated")]
    using = _count(len(deprecated), "operation uses", "operations use")
    if broken:
        breaking = _count(len(broken), "operation breaks", "operations break")
        also = f" {using} deprecated elements ({', '.join(deprecated)})." if deprecated else ""
        return f"BREAKS: {breaking} ({', '.join(broken)}).{also}"
    if diff.unattached:
        return f"BREAKS: {_count(len(diff.unattached), 'error')} outside any operation (above)."
    if deprecated:
        names = ", ".join(deprecated)
        return f"DEPRECATED: nothing breaks, but {using} deprecated elements ({names})."
    return "FINE: no operation breaks or uses a deprecated element."


def _summary(diff: SchemaDiff) -> str:
    counts = {v: len(diff.with_verdict(v)) for v in ("breaks", "deprecated", "fine")}
    return (
        f"{_count(len(diff.operations), 'operation')}: {counts['breaks']} breaks, "
        f"{counts['deprecated']} deprecated, {counts['fine']} fine"
    )


def _deprecation_text(use: DeprecatedUse, operation: OperationVerdict) -> str:
    new = " (newly deprecated)" if use.coordinate in operation.newly_deprecated else ""
    return use.line() + new


def _skipped_note(diff: SchemaDiff) -> str:
    names = [name for name, _ in diff.skipped]
    listed = f": {', '.join(names)}" if len(names) <= SKIPPED_NAMED else ""
    return (
        f"Skipped {_count(len(names), 'operation')} of oeus-kraken's own, which "
        f"{'does' if len(names) == 1 else 'do'} not validate against {diff.old_label} (not a "
        f"schema they were written for){listed}."
    )


# -- text -----------------------------------------------------------------------------------------


def _change_lines(diff: SchemaDiff) -> list[str]:
    counts = diff.counts()
    lines = [
        "Schema changes: " + ", ".join(f"{counts[g]} {g}" for g in GROUPS),
    ]
    width = max((len(c.type) for c in diff.changes), default=0)
    for group in GROUPS:
        changes, hidden = _shown(diff, group)
        if not changes:
            continue
        lines.append(f"{group.capitalize()} ({counts[group]})")
        for change in changes:
            users = f"  [used by {', '.join(change.used_by)}]" if change.used_by else ""
            lines.append(f"  {change.type:<{width}}  {change.description}{users}")
        if hidden:
            lines.append(f"  ... and {hidden} more (--json lists them all)")
    return lines


def _operation_lines(diff: SchemaDiff) -> list[str]:
    rows = [(op.name, op.verdict, str(op.location or op.folder)) for op in diff.operations]
    header = ("OPERATION", "VERDICT", "WHERE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    lines = [
        f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}",
        f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len(header[2])}",
    ]
    for op, (name, verdict, where) in zip(diff.operations, rows, strict=True):
        lines.append(f"{name:<{widths[0]}}  {verdict:<{widths[1]}}  {where}")
        lines.extend(f"    {b.render()}" for b in op.breaks)
        lines.extend(f"    {_deprecation_text(d, op)}" for d in op.deprecated)
    if not rows:
        lines.append("(none)")
    return lines


def render_text(diff: SchemaDiff) -> str:
    """The report for a terminal; its last line is the verdict."""
    lines: list[str] = []
    if diff.old_label is not None:
        lines += [f"Comparing {diff.old_label} with {diff.new_label}.", ""]
        lines += _change_lines(diff)
        lines.append("")
    lines.append(f"Operations in {_folders(diff)}, against {diff.new_label}: {_summary(diff)}")
    lines += _operation_lines(diff)
    if diff.unattached:
        lines.append("Errors outside any operation:")
        lines.extend(f"    {b.render()}" for b in diff.unattached)
    if diff.skipped:
        lines += ["", _skipped_note(diff)]
    lines += ["", verdict_line(diff)]
    return "\n".join(lines)


# -- Markdown -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return one_line(text, 1000).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _break_cell(found: Break) -> str:
    what = f"{found.element.kind} {_code(found.element.coordinate)}: " if found.element else ""
    if found.touched:
        return _cell(f"{what}{found.touched_words()}{found.message}")
    cause = "; ".join(c.render() for c in found.changes)
    if found.already_invalid:
        cause = "it did not validate against the old schema either"
    return _cell(f"{what}{found.message}" + (f" Cause: {cause}" if cause else ""))


def _operation_rows(diff: SchemaDiff) -> list[str]:
    rows = [_row("Operation", "Verdict", "Where", "What"), _row(*["---"] * 4)]
    for op in diff.operations:
        for found in op.breaks:
            where = _code(str(found.location or op.location or op.folder))
            rows.append(_row(_code(op.name), "**breaks**", where, _break_cell(found)))
        for use in op.deprecated:
            what = f"{use.kind} {_code(use.coordinate)} is deprecated: {shown_reason(use.reason)}"
            if use.coordinate in op.newly_deprecated:
                what += " (newly deprecated)"
            rows.append(_row(_code(op.name), "deprecated", _code(str(use.location)), _cell(what)))
        if op.verdict == "fine":
            rows.append(_row(_code(op.name), "fine", _code(str(op.location or op.folder)), ""))
    return rows


def render_markdown(diff: SchemaDiff) -> str:
    """The report as Markdown: a verdict, a table of the operations (a row per break and per
    deprecated element, one for each operation that is fine), and a table of the changes."""
    old = _code(diff.old_label or "")
    title = (
        f"### Schema diff: {old} → {_code(diff.new_label)}"
        if diff.old_label
        else (f"### Operations against {_code(diff.new_label)}")
    )
    lines = [title, "", f"**{verdict_line(diff)}**", "", f"{_summary(diff)} ({_folders(diff)})."]
    if diff.operations:
        lines += ["", *_operation_rows(diff)]
    for found in diff.unattached:
        lines += ["", f"Error outside any operation: {_break_cell(found)}"]
    if diff.skipped:
        lines += ["", _skipped_note(diff)]
    if diff.old_label is not None:
        counts = diff.counts()
        lines += ["", "Schema changes: " + ", ".join(f"{counts[g]} {g}" for g in GROUPS) + "."]
        if diff.changes:
            lines += ["", _row("Group", "Change", "Description", "Used by"), _row(*["---"] * 4)]
            for group in GROUPS:
                changes, hidden = _shown(diff, group)
                for change in changes:
                    users = ", ".join(_code(u) for u in change.used_by)
                    lines.append(_row(group, _code(change.type), _cell(change.description), users))
                if hidden:
                    lines.append(_row(group, "", f"... and {hidden} more", ""))
    return "\n".join(lines)


# -- JSON -----------------------------------------------------------------------------------------


def _place(location: Location | None) -> dict[str, Any]:
    if location is None:
        return {"file": None, "line": None, "column": None}
    return {"file": location.file, "line": location.line, "column": location.column}


def _change_json(change: SchemaChange) -> dict[str, Any]:
    return {
        "type": change.type,
        "description": change.description,
        "coordinate": change.coordinate,
        "reason": change.reason,
        "used_by": list(change.used_by),
    }


def _break_json(found: Break) -> dict[str, Any]:
    return {
        **_place(found.location),
        "kind": found.element.kind if found.element else None,
        "element": found.element.coordinate if found.element else None,
        "message": found.message,
        "still_validates": found.validates,
        "already_invalid": found.already_invalid,
        "changes": [{"type": c.type, "description": c.description} for c in found.changes],
    }


def _operation_json(op: OperationVerdict) -> dict[str, Any]:
    return {
        "name": op.name,
        "kind": op.kind,
        **_place(op.location),
        "folder": op.folder,
        "verdict": op.verdict,
        "breaks": [_break_json(b) for b in op.breaks],
        "deprecated": [
            {
                **_place(d.location),
                "kind": d.kind,
                "element": d.coordinate,
                "reason": d.reason,
                "newly_deprecated": d.coordinate in op.newly_deprecated,
            }
            for d in op.deprecated
        ],
    }


def render_json(diff: SchemaDiff, *, fail_on_deprecated: bool = False) -> dict[str, Any]:
    """The whole report as JSON-ready data (every change, every operation)."""
    counts = {v: len(diff.with_verdict(v)) for v in ("breaks", "deprecated", "fine")}
    return {
        "old": diff.old_label,
        "new": diff.new_label,
        "folders": list(diff.folders),
        "verdict": diff.verdict,
        "exit_status": diff.exit_status(fail_on_deprecated=fail_on_deprecated),
        "summary": {**diff.counts(), "operations": len(diff.operations), **counts},
        "changes": {g: [_change_json(c) for c in diff.group(g)] for g in GROUPS},
        "operations": [_operation_json(op) for op in diff.operations],
        "unattached": [_break_json(b) for b in diff.unattached],
        "skipped": [{"name": name, **_place(where)} for name, where in diff.skipped],
    }
