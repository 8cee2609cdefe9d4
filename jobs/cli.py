"""The `hqsync` command line: builds engines, clients and schedulers, then runs one command."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from hqsync.config.errors import ConfigError, HqsyncError
from hqsync.config.settings import Settings, load_settings

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """The --config option every command takes."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="HQSYNC_CONFIG",
        show_envvar=True,
        help="Config file (default: $HQSYNC_CONFIG, else ./hqsync.toml).",
    )(func)


def log_format_option(func: F) -> F:
    """The --log-format option."""
    return click.option(
        "--log-format",
        type=click.Choice(["human", "json"]),
        default="human",
        show_default=True,
        help="Log lines for people or for log collectors.",
    )(func)


class _Context:
    """What a command needs: settings, a migrated engine, a pipeline, built on first use."""

    def __init__(
        self, config_path: Path | None, log_format: str = "human", verbose: bool = False
    ) -> None:
        from hqsync.jobs.logs import configure_logging

        configure_logging(log_format, logging.DEBUG if verbose else logging.INFO)  # type: ignore[arg-type]
        logging.getLogger("alembic").setLevel(logging.WARNING)
        self.settings: Settings = load_settings(config_path)

    def engine(self) -> Any:
        from hqsync.models.store import open_store

        return open_store(self.settings.database.url)


@contextlib.contextmanager
def _errors_to_exit_codes() -> Iterator[None]:
    try:
        yield
    except HqsyncError as exc:
        click.echo(f"hqsync: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("hqsync: interrupted", err=True)
        sys.exit(130)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from hqsync.jobs.logs import progress_callback

    with progress_callback() as callback:
        yield callback


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hqsync")
def cli() -> None:
    """hqsync: AppSheet / Google Sheets hospital quality data → scored dashboard for leaders."""


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hqsync-demo"),
    show_default=True,
    help="Where to write the demo config, source workbook, database and dashboard.",
)
@click.option("--seed", type=int, default=6858, show_default=True, help="Random seed.")
@click.option("--language", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def demo(directory: Path, seed: int, language: str) -> None:
    """Run one full cycle on a seeded example: no Google account needed."""
    from hqsync.jobs.demo import run_demo
    from hqsync.jobs.logs import configure_logging

    configure_logging("human", logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with _errors_to_exit_codes():
        summary = run_demo(directory, seed=seed, language=language)
    click.echo(summary)


@cli.command()
@config_option
@click.option("--once", is_flag=True, help="Run one full cycle (sync, score, publish), then exit.")
@log_format_option
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(config_path: Path | None, once: bool, log_format: str, verbose: bool) -> None:
    """Run the daemon (or one cycle with --once)."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes():
        ctx = _Context(config_path, log_format, verbose)
        engine = ctx.engine()
        if once:
            with _progress(sys.stderr.isatty()) as progress:
                pipeline = Pipeline(ctx.settings, engine, progress=progress)
                result = pipeline.run_cycle(publish_always=True)
            _echo_cycle(result)
            sys.exit(1 if result.failed else 0)
        from hqsync.jobs.daemon import run_daemon

        pipeline = Pipeline(ctx.settings, engine)
        sys.exit(run_daemon(ctx.settings, engine, pipeline, pipeline.holder))


def _echo_cycle(result: Any) -> None:
    sync = result.sync
    synced = sum(1 for rows in sync.rows.values() if rows)
    click.echo(
        f"sync: {synced} source(s) read, {len(sync.failed_sources)} failed; "
        f"score: {result.scored} result(s) changed; "
        f"publish: {'done' if result.published else 'not needed'}"
    )
    for name, error in sync.errors.items():
        click.echo(f"  source {name} failed: {error}", err=True)
    for label, error in (("scoring", result.score_error), ("publish", result.publish_error)):
        if error:
            click.echo(f"  {label} failed: {error}", err=True)


@cli.command()
@config_option
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--force", is_flag=True, help="Read even sources that did not change.")
@log_format_option
def sync(config_path: Path | None, sources: tuple[str, ...], force: bool, log_format: str) -> None:
    """Pull the source sheets into the store."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes():
        ctx = _Context(config_path, log_format)
        with _progress(sys.stderr.isatty()) as progress:
            outcome = Pipeline(ctx.settings, ctx.engine(), progress=progress).sync(
                sources or None, force=force
            )
        for name, rows in outcome.rows.items():
            state = (
                "failed: " + outcome.errors[name]
                if name in outcome.errors
                else ", ".join(f"{k} {v}" for k, v in rows.items()) or "unchanged"
            )
            click.echo(f"{name}: {state}")
        sys.exit(1 if outcome.failed_sources else 0)


@cli.command()
@config_option
@log_format_option
def score(config_path: Path | None, log_format: str) -> None:
    """Score the assessments whose findings changed."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes():
        ctx = _Context(config_path, log_format)
        changed = Pipeline(ctx.settings, ctx.engine()).score()
        click.echo(f"{changed} assessment result(s) changed")


@cli.command()
@config_option
@log_format_option
def publish(config_path: Path | None, log_format: str) -> None:
    """Write the dashboard from the store."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes():
        ctx = _Context(config_path, log_format)
        Pipeline(ctx.settings, ctx.engine()).publish()
        click.echo(f"dashboard written: {ctx.settings.dashboard.spreadsheet}")


@cli.command()
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def status(config_path: Path | None, fmt: str) -> None:
    """What ran, what failed, what runs next, who leads."""
    from hqsync.jobs.status import render_status, status_report

    with _errors_to_exit_codes():
        ctx = _Context(config_path, "human")
        report = status_report(ctx.settings, ctx.engine())
        if fmt == "json":
            click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            click.echo(render_status(report))


@cli.command()
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
def scores(config_path: Path | None, fmt: str) -> None:
    """Print the latest results, one record per assessment."""
    from hqsync.jobs.export import scores_csv_rows, scores_json

    with _errors_to_exit_codes():
        ctx = _Context(config_path, "human")
        engine = ctx.engine()
        from hqsync.jobs.pipeline import Pipeline
        from hqsync.scoring import report_levels

        rule_sets = Pipeline(ctx.settings, engine).rule_sets
        records = scores_json(engine, rule_sets)
        if fmt == "json":
            click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        else:
            buffer = io.StringIO()
            header, rows = scores_csv_rows(records, report_levels(rule_sets.values()))
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            click.echo(buffer.getvalue(), nl=False)


@cli.command("init-source")
@config_option
@click.option(
    "--source", "source_name", default=None, help="Which [[sources]] entry (default: the only one)."
)
@click.option(
    "--language",
    type=click.Choice(["vi", "en"]),
    default="en",
    show_default=True,
    help="Header language of the new tabs.",
)
def init_source_command(config_path: Path | None, source_name: str | None, language: str) -> None:
    """Create the source tabs, headers and validation for a new AppSheet app."""
    from hqsync.sync.init_source import init_source

    with _errors_to_exit_codes():
        ctx = _Context(config_path, "human")
        if source_name is None:
            if len(ctx.settings.sources) != 1:
                raise ConfigError("several [[sources]] are configured: pick one with --source")
            source = ctx.settings.sources[0]
        else:
            source = ctx.settings.source(source_name)
        click.echo(init_source(ctx.settings, source, language=language))


@cli.command()
@config_option
def check(config_path: Path | None) -> None:
    """Validate the config and reach every source and the dashboard."""
    from hqsync.jobs.check import render_check, run_check

    with _errors_to_exit_codes():
        ctx = _Context(config_path, "human")
        report = run_check(ctx.settings)
        click.echo(render_check(report))
        sys.exit(0 if report.ok else 1)


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="hqsync", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.Abort:
        click.echo("hqsync: aborted", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
