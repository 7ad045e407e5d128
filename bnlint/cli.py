"""The command line: ``bnlint check``, ``bnlint rule``, ``bnlint server``, ``bnlint --version``. Knows
options, not analysis."""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import click

from bnlint import __version__
from bnlint.formats import FORMAT_NAMES, get_formatter
from bnlint.project.config import KERAS_VERSIONS, ConfigError, Settings, load_settings, select_codes

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def _split_codes(values: tuple[str, ...]) -> list[str]:
    return [code.strip().upper() for value in values for code in value.split(",") if code.strip()]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bnlint", message="%(prog)s %(version)s")
def main() -> None:
    """bnlint finds Keras `training` / `trainable` mistakes that silently hurt training."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated; ALL)."
)
@click.option("--extend-select", multiple=True, help="Codes or prefixes to enable in addition.")
@click.option("--ignore", multiple=True, help="Codes or prefixes to disable.")
@click.option("--fix/--no-fix", default=False, help="Apply safe fixes.")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes that change behaviour."
)
@click.option("--diff", is_flag=True, help="Print the fixes as a diff and write nothing.")
@click.option(
    "--output-format",
    type=click.Choice(FORMAT_NAMES),
    default="full",
    show_default=True,
    help="How to print findings.",
)
@click.option(
    "-o", "--output-file", type=click.Path(path_type=Path), help="Write findings to a file."
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--statistics", is_flag=True, help="Print a count of findings per rule.")
@click.option("--keras-version", type=click.Choice(KERAS_VERSIONS), help="Targeted Keras version.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file.",
)
@click.option(
    "--force-exclude", is_flag=True, help="Apply excludes to files named on the command line too."
)
@click.option(
    "--stdin-filename", help="The name of the file read from standard input (with PATH '-')."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes (default: the machine's cores; used when there are enough files).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option(
    "--show-fixes",
    is_flag=True,
    help="List the fixes: those applied with --fix, otherwise those available.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the results cache lives (default: .bnlint_cache in the project root).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Time limit for analysing one file (default: 20; 0: no limit). A file that takes longer "
    "is reported as BNL000.",
)
@click.option(
    "--durations",
    type=click.IntRange(min=0),
    metavar="N",
    help="Show the N slowest files and how long each took, on standard error (0: all).",
)
def check(paths: tuple[Path, ...], **options: Any) -> None:
    """Check PATHS (files or folders; default: the current folder) for Keras training mistakes."""
    try:
        code = _check(paths, CheckOptions(**options))
    except ConfigError as error:
        click.echo(f"bnlint: error: {error}", err=True)
        code = EXIT_ERROR
    sys.exit(code)


@dataclass(frozen=True)
class CheckOptions:
    """The options of ``bnlint check``, as click parsed them."""

    select: tuple[str, ...]
    extend_select: tuple[str, ...]
    ignore: tuple[str, ...]
    fix: bool
    unsafe_fixes: Optional[bool]
    diff: bool
    output_format: str
    output_file: Optional[Path]
    exit_zero: bool
    statistics: bool
    keras_version: Optional[str]
    config_file: Optional[Path]
    force_exclude: bool
    stdin_filename: Optional[str]
    jobs: Optional[int]
    no_cache: bool
    cache_dir: Optional[Path]
    show_fixes: bool = False
    timeout: Optional[float] = None
    durations: Optional[int] = None


def _check(paths: tuple[Path, ...], opts: CheckOptions) -> int:
    from bnlint.engine import LintOptions
    from bnlint.rules import available_codes
    from bnlint.runner import RunOptions, lint_paths, lint_stdin

    if opts.config_file is not None and not opts.config_file.is_file():
        raise ConfigError(f"{opts.config_file}: configuration file not found")
    use_stdin = paths == (Path("-"),)
    start = (
        Path(opts.stdin_filename).parent
        if use_stdin and opts.stdin_filename
        else (paths[0] if paths else Path.cwd())
    )
    settings = load_settings(opts.config_file, start if os.path.exists(start) else Path.cwd())
    _apply_options(
        settings,
        opts.select,
        opts.extend_select,
        opts.ignore,
        opts.unsafe_fixes,
        opts.keras_version,
    )

    codes = select_codes(
        available_codes(), settings.select, settings.extend_select, settings.ignore
    )
    root = settings.project_root or Path.cwd()
    options = LintOptions(
        codes=tuple(codes),
        keras_version=settings.keras_version,
        keras_version_start=str(start if os.path.exists(start) else root),
    )
    run = RunOptions(
        fix=opts.fix,
        unsafe_fixes=settings.unsafe_fixes,
        diff=opts.diff,
        force_exclude=opts.force_exclude,
        jobs=opts.jobs,
        cache=not opts.no_cache,
        cache_dir=opts.cache_dir,
        timeout=_time_limit(opts.timeout if opts.timeout is not None else settings.timeout),
    )

    if use_stdin:
        name = opts.stdin_filename or "-"
        result = lint_stdin(sys.stdin.buffer.read(), name, settings, options, run)
    else:
        missing = [p for p in paths if str(p) != "-" and _missing(p)]
        if missing:
            raise ConfigError(f"{missing[0]}: no such file or folder")
        result = lint_paths(paths or (Path("."),), settings, options, run)
    _warn_unconverged(result)
    if opts.durations is not None:
        _report_durations(result.seconds, opts.durations)

    color = _color_choice()
    if opts.diff or (use_stdin and opts.fix):
        _warn_unanalysed(result)  # the report shows no diagnostics: these must not go unseen
    if use_stdin and opts.fix and not opts.diff and result.fixed_data is not None:
        _write_bytes(result.fixed_data)
        if opts.show_fixes:
            click.echo(_fixes_listing(result, opts, settings), nl=False, err=True, color=color)
        _report_summary(result, opts.fix, opts.diff, err=True)
        return _exit_code(result, opts.diff, opts.exit_zero)

    report = ""
    if opts.diff:
        report = "".join(result.diffs)
    else:
        report = get_formatter(opts.output_format)(result.diagnostics, result.sources)
        if opts.statistics:
            report += _statistics(result)
        listing = _fixes_listing(result, opts, settings) if opts.show_fixes else ""
        if listing and opts.output_format in ("full", "concise"):
            report += ("\n" if report and opts.output_format == "full" else "") + listing
    if opts.output_file is not None:
        # A file name that is not UTF-8 is written back as its own bytes; missing folders are made.
        try:
            opts.output_file.parent.mkdir(parents=True, exist_ok=True)
            opts.output_file.write_text(
                click.unstyle(report), encoding="utf-8", errors="surrogateescape"
            )
        except OSError as error:
            raise ConfigError(f"{opts.output_file}: cannot write: {error.strerror}") from error
    elif report:
        click.echo(report, nl=False, color=color)
    if opts.output_format in ("full", "concise") or opts.diff:
        _report_summary(result, opts.fix, opts.diff, err=opts.output_file is None and opts.diff)
    return _exit_code(result, opts.diff, opts.exit_zero)


def _unanalysed(result) -> list:  # type: ignore[no-untyped-def]
    """The BNL000 diagnostics: files that could not be read, parsed, analysed or written."""
    return [d for d in result.diagnostics if d.code == "BNL000"]


def _warn_unanalysed(result) -> None:  # type: ignore[no-untyped-def]
    """Say on standard error which files could not be read, parsed, analysed or written."""
    from bnlint.formats.text import format_concise

    report = format_concise(_unanalysed(result), {})
    if report:
        click.echo(report, nl=False, err=True)


def _write_bytes(data: bytes) -> None:
    """Write bytes to standard output as they are (a fixed file keeps its encoding)."""
    stdout = getattr(sys.stdout, "buffer", None)
    if stdout is None:
        sys.stdout.write(data.decode("utf-8", errors="replace"))
    else:
        sys.stdout.flush()
        stdout.write(data)
    sys.stdout.flush()


def _missing(path: Path) -> bool:
    """Whether nothing at all is at ``path`` (a dangling link or an unreadable path is something:
    the run reports it)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _time_limit(seconds: float) -> Optional[float]:
    """The per-file time limit of the run: None for 0 (or infinity): no limit."""
    return seconds if 0 < seconds < float("inf") else None


def _report_durations(seconds: dict[str, float], count: int) -> None:
    """``--durations``: the slowest files first, on standard error."""
    slowest = sorted(seconds.items(), key=lambda item: (-item[1], item[0]))
    shown = slowest if count == 0 else slowest[:count]
    if not shown:
        return
    click.echo(f"bnlint: slowest {len(shown)} of {len(slowest)} files analysed:", err=True)
    for name, spent in shown:
        click.echo(f"{spent:10.3f}s  {name}", err=True)


def _color_choice() -> Optional[bool]:
    """Colour on a terminal only (click's own detection), never with ``NO_COLOR``, always with
    ``FORCE_COLOR`` (see no-color.org and force-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


def _fixes_listing(result: Any, opts: CheckOptions, settings: Settings) -> str:
    """``--show-fixes``: the fixes applied (with ``--fix``) or available (without)."""
    from bnlint.formats.text import format_applied_fixes, format_available_fixes

    if opts.diff:
        return ""
    if opts.fix:
        from bnlint.rules import rules_by_code

        names = {code: rule.name for code, rule in rules_by_code().items()}
        return format_applied_fixes(result.applied, names)
    return format_available_fixes(result.diagnostics, settings.unsafe_fixes)


def _apply_options(
    settings: Settings,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    unsafe_fixes: Optional[bool],
    keras_version: Optional[str],
) -> None:
    """Command-line options win over the configuration file."""
    if select:
        settings.select = _split_codes(select)
    if extend_select:
        settings.extend_select = [*settings.extend_select, *_split_codes(extend_select)]
    if ignore:
        settings.ignore = [*settings.ignore, *_split_codes(ignore)]
    if unsafe_fixes is not None:
        settings.unsafe_fixes = unsafe_fixes
    if keras_version is not None:
        settings.keras_version = keras_version


def _statistics(result) -> str:  # type: ignore[no-untyped-def]
    counts = Counter((d.code, d.name, d.fix is not None) for d in result.diagnostics)
    lines = [
        f"{count:>5}\t{code}\t{'[*] ' if fixable else ''}{name}"
        for (code, name, fixable), count in sorted(
            counts.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    return "".join(line + "\n" for line in lines)


def _warn_unconverged(result) -> None:  # type: ignore[no-untyped-def]
    """Say on standard error which files' fixes did not settle within the pass limit."""
    if not result.unconverged:
        return
    from bnlint.fix_loop import MAX_FIX_PASSES

    for name in result.unconverged:
        click.echo(
            f"bnlint: warning: {name}: fixes still produced new fixes after {MAX_FIX_PASSES} "
            "passes; the fixes made so far were kept (please report it)",
            err=True,
        )


def _report_summary(result, fix: bool, diff: bool, err: bool) -> None:  # type: ignore[no-untyped-def]
    found = len(result.diagnostics)
    lines = []
    if diff:
        if result.fixed:
            lines.append(f"Would fix {result.fixed} error{'s' if result.fixed != 1 else ''}.")
    elif fix and result.fixed:
        lines.append(
            f"Found {found + result.fixed} error{'s' if found + result.fixed != 1 else ''} "
            f"({result.fixed} fixed, {found} remaining)."
        )
    elif found:
        lines.append(f"Found {found} error{'s' if found != 1 else ''}.")
        if result.fixable:
            lines.append(
                f"[*] {result.fixable} fixable with the `--fix` option (some may need `--unsafe-fixes`)."
            )
    else:
        lines.append("All checks passed!")
    for line in lines:
        click.echo(line, err=err)


def _exit_code(result, diff: bool, exit_zero: bool) -> int:  # type: ignore[no-untyped-def]
    if result.internal_errors:
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if diff:
        return EXIT_FINDINGS if result.diffs or _unanalysed(result) else EXIT_CLEAN
    return EXIT_FINDINGS if result.diagnostics else EXIT_CLEAN


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Show the documentation of every rule.")
def rule(code: Optional[str], show_all: bool) -> None:
    """Show the documentation of rule CODE (e.g. BNL001), or of every rule with --all."""
    from bnlint.rules import all_rules, rules_by_code

    if show_all:
        click.echo("\n".join(r.documentation() for r in all_rules()), nl=False)
        return
    if code is None:
        raise click.UsageError("give a rule code (e.g. BNL001) or --all")
    found = rules_by_code().get(code.upper())
    if found is None:
        click.echo(f"bnlint: error: unknown rule code '{code}'", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(found.documentation(), nl=False)


@main.command()
def server() -> None:
    """Run the language server on standard input and output, for editors (needs the extra:
    pip install 'bnlint[server]')."""
    from bnlint.server import missing_extra, serve_stdio

    problem = missing_extra()
    if problem is not None:
        click.echo(f"bnlint: error: {problem}", err=True)
        sys.exit(EXIT_ERROR)
    serve_stdio()
