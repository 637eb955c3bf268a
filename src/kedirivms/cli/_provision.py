"""``kedirivms plan``, ``apply`` and ``inventory discover|schema|check``: declarative fleet provisioning."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kedirivms.cli._app import JsonOption, app, console, emit_json, err_console
from kedirivms.errors import ConfigError, ProvisionError
from kedirivms.fleet import fleet_schema_json, load_fleet
from kedirivms.provision import (
    DEFAULT_CONCURRENCY,
    ApplyReport,
    Plan,
    apply,
    bootstrap_inventory,
    plan,
)

T = TypeVar("T")

inventory_app = typer.Typer(help="Inventory files: bootstrap from discovery, JSON Schema, check.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")

InventoryArg = typer.Argument(..., help="Inventory YAML file.", exists=False, dir_okay=False)
OnlyOption = typer.Option(None, "--only", help="Camera name or site id to act on (repeatable; default: all).")
ConcurrencyOption = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", "-c", help="Cameras handled at once.")
ProcessesOption = typer.Option(
    1, "--processes", "-P", min=1, help="Worker processes to spread the cameras over (for spare CPU cores)."
)
RotateOption = typer.Option(
    False, "--rotate-passwords", help="Also re-set the passwords of existing users from their references."
)
_STYLE = {
    "in_sync": "green",
    "unchanged": "green",
    "changes": "yellow",
    "changed": "yellow",
    "invalid": "red",
    "failed": "red",
}


@contextmanager
def _progress(label: str, total: int, enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    if not enabled or not err_console.is_terminal or total == 0:
        yield None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def update(result: Any) -> None:
            bar.update(task, advance=1, description=f"{result.name}: {result.status}")

        yield update


def _plan_table(p: Plan) -> Table:
    table = Table(
        title=f"plan of {p.inventory}: {len(p.cameras)} camera(s), {p.changes} change(s)", title_justify="left"
    )
    for column in ("Camera", "Site", "Address", "Status", "Changes / problems"):
        table.add_column(column, overflow="fold")
    for c in p.cameras:
        details = [str(ch) for ch in c.changes] + [f"[red]! {x}[/]" for x in c.problems]
        if c.error:
            details.append(f"[red]{c.error}[/]")
        table.add_row(
            c.name,
            c.site,
            c.address,
            f"[{_STYLE[c.status]}]{c.status}[/]",
            "\n".join(details) or "[dim]nothing to do[/]",
        )
    return table


def _apply_table(r: ApplyReport) -> Table:
    title = (
        f"apply of {r.inventory}: {r.count('changed')} changed, {r.count('unchanged')} unchanged, "
        f"{r.count('failed')} failed in {r.duration_s:.1f} s"
    )
    table = Table(title=title, title_justify="left")
    for column in ("Camera", "Site", "Address", "Result", "Changes / reason"):
        table.add_column(column, overflow="fold")
    for c in r.cameras:
        details = [str(ch) for ch in c.changes]
        if c.error:
            details.append(f"[red]{c.error}[/]")
        text = "\n".join(details) or "[dim]nothing to do[/]"
        table.add_row(c.name, c.site, c.address, f"[{_STYLE[c.status]}]{c.status}[/]", text)
    return table


@app.command("plan")
def plan_command(
    inventory: Path = InventoryArg,
    only: list[str] | None = OnlyOption,
    concurrency: int = ConcurrencyOption,
    processes: int = ProcessesOption,
    rotate_passwords: bool = RotateOption,
    json: bool = JsonOption,
) -> None:
    """Read every camera and show what apply would change (read-only); exit 1 if a camera is invalid or failed."""
    inv = load_fleet(inventory)
    targets = inv.cameras(only)
    with _progress("plan", len(targets), not json) as progress:
        result = plan(
            inv,
            only=only,
            concurrency=concurrency,
            processes=processes,
            rotate_passwords=rotate_passwords,
            progress=progress,
        )
    if json:
        emit_json(result)
    else:
        console.print(_plan_table(result))
    bad = [c.name for c in result.cameras if c.status in ("invalid", "failed")]
    if bad:
        raise ProvisionError(
            f"{len(bad)} of {len(result.cameras)} camera(s) cannot be converged: {', '.join(bad)}",
            operation="plan",
            hint="see their problems and errors above",
        )


@app.command("apply")
def apply_command(
    inventory: Path = InventoryArg,
    only: list[str] | None = OnlyOption,
    concurrency: int = ConcurrencyOption,
    processes: int = ProcessesOption,
    rotate_passwords: bool = RotateOption,
    audit: Path | None = typer.Option(
        None, "--audit", help="JSONL audit log to append to (default: <inventory>.audit.jsonl beside the inventory)."
    ),
    json: bool = JsonOption,
) -> None:
    """Converge the cameras to the inventory; per camera changed, unchanged or failed. Exit 1 if any failed.

    Each camera is read once (the plan) and then written (apply from that plan); with --processes N each worker
    process reads and writes its share of the cameras.
    """
    inv = load_fleet(inventory)
    targets = inv.cameras(only)
    audit_path = audit or inventory.with_name(inventory.stem + ".audit.jsonl")
    planned = None
    if processes == 1:
        with _progress("plan", len(targets), not json) as progress:
            planned = plan(
                inv, only=only, concurrency=concurrency, rotate_passwords=rotate_passwords, progress=progress
            )
    with _progress("apply", len(targets), not json) as progress:
        report = apply(
            inv,
            plan=planned,
            only=only,
            concurrency=concurrency,
            processes=processes,
            rotate_passwords=rotate_passwords,
            audit=audit_path,
            progress=progress,
        )
    if json:
        emit_json(report)
    else:
        console.print(_apply_table(report))
        console.print(f"audit: {audit_path}", style="dim", highlight=False)
    failed = [c.name for c in report.cameras if c.status == "failed"]
    if report.audit_error:
        raise ProvisionError(report.audit_error, operation="apply", hint="the cameras were applied; fix the log")
    if failed:
        raise ProvisionError(
            f"{len(failed)} of {len(report.cameras)} camera(s) failed: {', '.join(failed)}",
            operation="apply",
            hint=f"the others were applied; see the reasons above and in {audit_path}",
        )


@inventory_app.command("discover")
def inventory_discover(
    ranges: list[str] = typer.Option(..., "--range", "-r", help="CIDR, a-b range or address to sweep (repeatable)."),
    output: Path = typer.Option(..., "--output", "-o", help="Inventory file to write (never overwritten)."),
    site: str = typer.Option("discovered", "--site", help="Site id for the cameras found."),
    username: str = typer.Option("admin", "--username", "-u", help="Login user (for reads and the skeleton)."),
    password_env: str = typer.Option(
        "KEDIRIVMS_PASSWORD", "--password-env", help="Environment variable with the password (written as reference)."
    ),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from this file."),
    timeout: float = typer.Option(1.0, "--timeout", "-t", help="Reply window per address, seconds."),
    no_details: bool = typer.Option(False, "--no-details", help="Do not log in to read model and hostname."),
) -> None:
    """Sweep address ranges with WS-Discovery and write an inventory skeleton of the cameras found."""
    if output.exists():
        raise ConfigError(f"{output} exists; not overwriting it", hint="pick another -o or remove the file")
    text = bootstrap_inventory(
        ranges,
        site=site,
        username=username,
        password_env=password_env,
        password_file=password_file,
        timeout=timeout,
        read_details=not no_details,
        output=output,
    )
    sites = (yaml.safe_load(text) or {}).get("sites") or {}
    count = sum(len(entry.get("cameras") or []) for entry in sites.values())
    console.print(f"wrote {output}: {count} camera(s) in site {site!r}", highlight=False)


@inventory_app.command("schema")
def inventory_schema_command(
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Print or write the JSON Schema of inventory files (for editor completion and checks)."""
    text = fleet_schema_json()
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    console.print(f"wrote {output}", highlight=False)


@inventory_app.command("check")
def inventory_check(
    inventory: Path = InventoryArg,
    only: list[str] | None = OnlyOption,
    json: bool = JsonOption,
) -> None:
    """Validate an inventory offline and list each camera's effective settings (no camera is contacted)."""
    targets = load_fleet(inventory).cameras(only)
    if json:
        emit_json([t.model_dump(mode="json", exclude_none=True) for t in targets])
        return
    table = Table(title=f"{inventory}: {len(targets)} camera(s)", title_justify="left")
    for column in ("Camera", "Site", "Address", "Managed", "Defined at"):
        table.add_column(column, overflow="fold")
    for t in targets:
        managed = [k for k in ("hostname", "time", "users", "encoders", "ptz", "imaging") if getattr(t, k) is not None]
        table.add_row(t.name, t.site, t.address, ", ".join(["scopes", *managed]), t.source)
    console.print(table)
