"""The `hqsync` command line: builds engines, clients and schedulers, then runs one command."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from hqsync.config.errors import ConfigError, HqsyncError
from hqsync.config.settings import Settings, load_settings
from hqsync.config.utils import paused_gc

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from hqsync.jobs.check import CheckReport

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


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or another stop signal) asked a one-shot command to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Context:
    """What a command needs: settings, an engine, a pipeline, built on first use."""

    def __init__(
        self, config_path: Path | None, log_format: str = "human", verbose: bool = False
    ) -> None:
        from hqsync.jobs.logs import configure_logging

        configure_logging(log_format, logging.DEBUG if verbose else logging.INFO)  # type: ignore[arg-type]
        logging.getLogger("alembic").setLevel(logging.WARNING)
        self.settings: Settings = load_settings(config_path)
        self._holder: str | None = None
        self._engine: Engine | None = None

    @property
    def holder(self) -> str:
        """This process's name in the run log and the lease (made on first use: the commands
        that only read never import the pipeline)."""
        if self._holder is None:
            from hqsync.jobs.pipeline import default_holder

            self._holder = default_holder()
        return self._holder

    @property
    def url(self) -> str:
        """The database URL (unmasked: mask it before showing it)."""
        return self.settings.database.url

    def engine(self) -> Engine:
        """The store for a command that writes: created if missing, migrated, and the runs of
        processes that are gone closed as abandoned."""
        from hqsync.models.store import open_store

        self._engine = open_store(self.url, stale_after_s=self.settings.daemon.lease_s)
        return self._engine

    def reader(self) -> Engine:
        """The store for a command that only reads: nothing created, no migration, no lock."""
        from hqsync.models.store import open_store_readonly

        return open_store_readonly(self.url)

    def writing(self, no_wait: bool) -> contextlib.AbstractContextManager[None]:
        """Hold the store's writer lease for the command (wait for another writer, or not)."""
        from hqsync.models.lease import writing

        assert self._engine is not None
        return writing(self._engine, self.holder, self.settings.daemon.lease_s, wait=not no_wait)

    def close_interrupted(self, signal_name: str) -> None:
        """Record this process's unfinished runs as failed: interrupted."""
        if self._engine is None:
            return
        from hqsync.models.runs import INTERRUPTED, close_runs_of

        close_runs_of(self._engine, self.holder, INTERRUPTED.format(signal=signal_name))


class _Guard:
    """Holds the command's context, so an error can be shown with its (masked) database URL."""

    def __init__(self) -> None:
        self.ctx: _Context | None = None

    def open(
        self, config_path: Path | None, log_format: str = "human", verbose: bool = False
    ) -> _Context:
        """Load the settings and set up logging for the command."""
        self.ctx = _Context(config_path, log_format, verbose)
        return self.ctx


def one_line(text: str) -> str:
    """`text` as one line, secrets masked: what the CLI prints for an error."""
    from hqsync.jobs.logs import redact

    return " ".join(part.strip() for part in redact(text).splitlines() if part.strip())


_OS_HINTS: tuple[tuple[type[OSError], str], ...] = (
    (PermissionError, "hqsync's user may not write there: fix the owner or mode of that path"),
    (FileExistsError, "a part of that path is a file, not a folder: fix the path in the config"),
    (NotADirectoryError, "a part of that path is a file, not a folder: fix the path in the config"),
    (IsADirectoryError, "that path is a folder: name a file"),
    (FileNotFoundError, "a folder on that path does not exist: create it or fix the config"),
)


def describe_os_error(exc: OSError) -> str:
    """An OSError as one line: what failed, where, and what to do."""
    where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    hint = next(
        (hint for kind, hint in _OS_HINTS if isinstance(exc, kind)),
        "check the path, the free disk space and the permissions",
    )
    return f"cannot use {where or 'a file'}: {exc.strerror or exc}; {hint}"


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, (SQLAlchemyError, sqlite3.Error)) or type(exc).__module__.startswith(
        "psycopg"
    )


@contextlib.contextmanager
def _errors_to_exit_codes(*, stop_signals: bool = False) -> Iterator[_Guard]:
    """Every error of a command becomes one line on stderr and an exit code; never a traceback.

    With `stop_signals`, SIGTERM stops the command like Ctrl-C does, and the runs it started
    are recorded as failed: interrupted.
    """
    guard = _Guard()
    previous = _raise_on_sigterm() if stop_signals else None
    try:
        yield guard
    except HqsyncError as exc:
        _fail(one_line(str(exc)), exc.exit_code)
    except KeyboardInterrupt as exc:
        signum: int = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # the cleanup below is not cut short
        if guard.ctx is not None:
            guard.ctx.close_interrupted(name)
        _fail(f"interrupted ({name}); what was not committed was rolled back", 128 + signum)
    except Exception as exc:
        log.debug("%s failed", sys.argv[1:2] or "command", exc_info=True)
        if _is_database_error(exc):
            from hqsync.models.store import store_error

            url = guard.ctx.url if guard.ctx is not None else "the database"
            _fail(one_line(str(store_error(exc, url))), 1)
        if isinstance(exc, OSError):
            _fail(one_line(describe_os_error(exc)), 1)
        _fail(one_line(f"unexpected error: {type(exc).__name__}: {exc}"), 1)
    finally:
        if previous is not None:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"hqsync: {message}", err=True)
    sys.exit(code)


def _raise_on_sigterm() -> dict[int, Any] | None:
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    return {
        sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    }


def no_wait_option(func: F) -> F:
    """The --no-wait option of the commands that write."""
    return click.option(
        "--no-wait",
        is_flag=True,
        help="Exit at once (code 75) when another process is writing, instead of waiting.",
    )(func)


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
    with _errors_to_exit_codes(stop_signals=True):
        summary = run_demo(directory, seed=seed, language=language)
    click.echo(summary)


@cli.command()
@config_option
@click.option("--once", is_flag=True, help="Run one full cycle (sync, score, publish), then exit.")
@no_wait_option
@log_format_option
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(
    config_path: Path | None, once: bool, no_wait: bool, log_format: str, verbose: bool
) -> None:
    """Run the daemon (or one cycle with --once)."""
    from hqsync.jobs.pipeline import Pipeline

    if not once:
        with _errors_to_exit_codes() as guard:
            ctx = guard.open(config_path, log_format, verbose)
            _check_cycles(ctx.settings)  # a bad [[cycles]] stops the daemon now, not at publish
            from hqsync.jobs.daemon import run_daemon

            engine = ctx.engine()
            pipeline = Pipeline(ctx.settings, engine, holder=ctx.holder)
            sys.exit(run_daemon(ctx.settings, engine, pipeline, pipeline.holder))
    with _errors_to_exit_codes(stop_signals=True) as guard:
        ctx = guard.open(config_path, log_format, verbose)
        _check_cycles(ctx.settings)
        engine = ctx.engine()
        with ctx.writing(no_wait), _progress(sys.stderr.isatty()) as progress:
            pipeline = Pipeline(ctx.settings, engine, holder=ctx.holder, progress=progress)
            result = pipeline.run_cycle(publish_always=True)
        _echo_cycle(result)
        sys.exit(1 if result.failed else 0)


def _echo_cycle(result: Any) -> None:
    sync = result.sync
    synced = sum(1 for rows in sync.rows.values() if rows)
    if result.publish_error:
        published = "failed"
    elif result.score_error:
        published = "not done (scoring failed)"
    else:
        published = "done" if result.published else "not needed"
    click.echo(
        f"sync: {synced} source(s) read, {len(sync.failed_sources)} failed; "
        f"score: {'failed' if result.score_error else f'{result.scored} result(s) changed'}; "
        f"publish: {published}"
    )
    for name, error in sync.errors.items():
        click.echo(f"  source {name} failed: {one_line(error)}", err=True)
    for label, error in (("scoring", result.score_error), ("publish", result.publish_error)):
        if error:
            click.echo(f"  {label} failed: {one_line(error)}", err=True)
    alerts = result.alerts
    if alerts is not None:
        if alerts.error:
            click.echo(f"  alerts failed: {one_line(alerts.error)}", err=True)
        else:
            failed = (
                f", {alerts.failed} not delivered (see `hqsync status`)" if alerts.failed else ""
            )
            click.echo(f"alerts: {alerts.sent} digest(s) sent{failed}")


@cli.command()
@config_option
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--force", is_flag=True, help="Read even sources that did not change.")
@no_wait_option
@log_format_option
def sync(
    config_path: Path | None,
    sources: tuple[str, ...],
    force: bool,
    no_wait: bool,
    log_format: str,
) -> None:
    """Pull the source sheets into the store."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes(stop_signals=True) as guard:
        ctx = guard.open(config_path, log_format)
        engine = ctx.engine()
        with ctx.writing(no_wait), _progress(sys.stderr.isatty()) as progress:
            outcome = Pipeline(ctx.settings, engine, holder=ctx.holder, progress=progress).sync(
                sources or None, force=force
            )
        for name, rows in outcome.rows.items():
            state = (
                "failed: " + one_line(outcome.errors[name])
                if name in outcome.errors
                else ", ".join(f"{k} {v}" for k, v in rows.items()) or "unchanged"
            )
            click.echo(f"{name}: {state}")
        sys.exit(1 if outcome.failed_sources else 0)


@cli.command()
@config_option
@no_wait_option
@log_format_option
def score(config_path: Path | None, no_wait: bool, log_format: str) -> None:
    """Score the assessments whose findings changed."""
    # Its imports and acyclic results hold no garbage: collecting cost a tenth of the imports.
    with paused_gc():
        from hqsync.jobs.pipeline import Pipeline

        with _errors_to_exit_codes(stop_signals=True) as guard:
            ctx = guard.open(config_path, log_format)
            engine = ctx.engine()
            with ctx.writing(no_wait):
                changed = Pipeline(ctx.settings, engine, holder=ctx.holder).score()
            click.echo(f"{changed} assessment result(s) changed")


@cli.command()
@config_option
@no_wait_option
@log_format_option
def publish(config_path: Path | None, no_wait: bool, log_format: str) -> None:
    """Write the dashboard from the store."""
    from hqsync.jobs.pipeline import Pipeline

    with _errors_to_exit_codes(stop_signals=True) as guard:
        ctx = guard.open(config_path, log_format)
        engine = ctx.engine()
        with ctx.writing(no_wait):
            report = Pipeline(ctx.settings, engine, holder=ctx.holder).publish()
        overview = ctx.settings.dashboard.spreadsheet
        state = "written" if overview in report.written else "unchanged, not rewritten"
        hospitals = len(report.outcomes) - 1
        extra = (
            f"; hospital dashboards: {len(set(report.written) - {overview})} of {hospitals} written"
            if hospitals
            else ""
        )
        click.echo(f"dashboard {state}: {overview}{extra}")


@cli.command()
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be sent, to whom; send nothing, mark nothing.",
)
@no_wait_option
@log_format_option
def alerts(config_path: Path | None, dry_run: bool, no_wait: bool, log_format: str) -> None:
    """Send each recipient one digest of the events it was not told yet."""
    from hqsync.jobs.alerts import render_report

    with _errors_to_exit_codes(stop_signals=True) as guard:
        ctx = guard.open(config_path, log_format)
        if dry_run:
            from hqsync.config.ruleset_loader import load_rule_sets
            from hqsync.jobs.alerts import run_alerts
            from hqsync.models.tables import utcnow

            engine = ctx.reader()
            report = run_alerts(
                ctx.settings,
                engine,
                load_rule_sets(ctx.settings.scoring.rule_set_dirs),
                clock=utcnow,
                holder="dry-run",
                dry_run=True,
            )
        else:
            from hqsync.jobs.pipeline import Pipeline

            engine = ctx.engine()
            with ctx.writing(no_wait):
                report = Pipeline(ctx.settings, engine, holder=ctx.holder).alerts()
        out, err = render_report(report, ctx.settings, dry_run=dry_run)
        click.echo(out)
        if err:
            click.echo(err, err=True)
        sys.exit(1 if report.failed else 0)


@cli.command()
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many recent runs to list (the last run of every job is always shown).",
)
def status(config_path: Path | None, fmt: str, limit: int) -> None:
    """What ran, what failed, what runs next, who leads."""
    from hqsync.jobs.status import render_status, status_report

    with _errors_to_exit_codes() as guard:
        ctx = guard.open(config_path, "human")
        report = status_report(ctx.settings, ctx.reader(), limit=limit)
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
    from hqsync.jobs.export import scores_csv, scores_json
    from hqsync.jobs.json_text import dumps_indented

    with _errors_to_exit_codes() as guard:
        ctx = guard.open(config_path, "human")
        engine = ctx.reader()
        from hqsync.config.ruleset_loader import load_rule_sets
        from hqsync.scoring import report_levels

        rule_sets = load_rule_sets(ctx.settings.scoring.rule_set_dirs)
        records = scores_json(
            engine, rule_sets, rank_incomplete=ctx.settings.scoring.rank_incomplete
        )
        if fmt == "json":
            click.echo(dumps_indented(records, ensure_ascii=False))
        else:
            click.echo(scores_csv(records, report_levels(rule_sets.values())), nl=False)


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

    with _errors_to_exit_codes() as guard:
        ctx = guard.open(config_path, "human")
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
    """Check everything a run will meet (sources read and normalised, the database, the
    dashboard), writing nothing; exit 1 when any row would be rejected or anything would fail."""
    from hqsync.jobs.check import render_check, run_check

    with _errors_to_exit_codes() as guard:
        ctx = guard.open(config_path, "human")
        _check_cycles(ctx.settings)
        report = run_check(ctx.settings, database_url=ctx.url)
        click.echo(render_check(report))
        _echo_sharing(ctx.settings, report)
        database = report.database
        if database is not None and not database.ok:
            where = "" if database.url in database.detail else f"{database.url}: "
            click.echo(f"hqsync: {where}{database.detail}", err=True)
        sys.exit(0 if report.ok else 1)


def _check_cycles(settings: Settings) -> None:
    """ConfigError (exit 2) when a `[[cycles]]` standard names no rule set."""
    if not settings.cycles:
        return
    from hqsync.config.ruleset_loader import load_rule_sets
    from hqsync.scoring.cycles import check_cycles, standard_resolver

    rule_sets = load_rule_sets(settings.scoring.rule_set_dirs)
    check_cycles(settings.cycles, standard_resolver(rule_sets), rule_sets)


def _echo_sharing(settings: Settings, report: CheckReport) -> None:
    """Who each hospital dashboard is shared with, those the sources' Hospitals tabs name
    included (warnings never change the exit code)."""
    from hqsync.jobs.sharing import list_sharing, render_sharing

    column = [pair for source in report.sources for pair in source.dashboards]
    text = render_sharing(list_sharing(settings, column))
    if text:
        click.echo(text)


def main() -> None:
    """Console-script entry point."""
    # numpy's OpenBLAS starts (and at exit joins) a thread per core: 0.1 s of `hqsync score`
    # for a few small matrix products. A value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
    except Exception as exc:  # outside any command's guard (click itself): still one line
        log.debug("hqsync failed", exc_info=True)
        _fail(one_line(f"unexpected error: {type(exc).__name__}: {exc}"), 1)


if __name__ == "__main__":
    main()
