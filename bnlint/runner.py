"""Paths in, results out: discovery, cache, workers, fixes, in that order."""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from bnlint.diagnostics import Diagnostic
from bnlint.engine import (
    LintOptions,
    forget_resolved_versions,
    internal_error,
    is_internal_error,
    lint_text,
    may_need_parse,
    parse_error,
)
from bnlint.isolation import (
    ISOLATED_FILE_BYTES,  # noqa: F401 - part of this module's interface
    analyse_guarded,
    call_guarded,
)
from bnlint.project.config import DEFAULT_TIMEOUT, Settings
from bnlint.project.discovery import PathProblem, discover
from bnlint.project.imports import forget_layout
from bnlint.project.summaries import FileSummaries, ProjectSummaries
from bnlint.sources import SourceError, decode_python

if TYPE_CHECKING:
    from bnlint.workers import Sharing

#: Files per worker process: fewer files run on one worker (a second one would cost more than it saves).
MIN_FILES_PER_WORKER = 16


@dataclass(frozen=True)
class RunOptions:
    """What to do besides reporting: fix, show diffs, honour excludes, parallelism and the cache."""

    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    force_exclude: bool = False
    jobs: Optional[int] = None
    cache: bool = True
    cache_dir: Optional[Path] = None
    #: The time limit for analysing one file, in seconds (None: no limit).
    timeout: Optional[float] = DEFAULT_TIMEOUT


@dataclass
class RunResult:
    """Everything a report needs: diagnostics, source texts, fix counts, diffs."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    files: int = 0
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    #: File name -> the code of every fix applied in it (for ``--show-fixes``).
    applied: dict[str, list[str]] = field(default_factory=dict)
    #: Files whose fixes kept producing new fixes until the pass limit.
    unconverged: list[str] = field(default_factory=list)
    #: File name -> seconds its analysis took (files answered from the cache are not there).
    seconds: dict[str, float] = field(default_factory=dict)
    #: The fixed bytes of standard input (``--fix`` with ``-``).
    fixed_data: Optional[bytes] = None
    #: Project modules summarised for the files' imports (parsed for that), and the time it took.
    summarised: set[str] = field(default_factory=set)
    summary_seconds: float = 0.0

    @property
    def fixable(self) -> int:
        """Diagnostics that have a fix."""
        return sum(1 for d in self.diagnostics if d.fix is not None)

    @property
    def internal_errors(self) -> int:
        """Files on which bnlint itself failed."""
        return sum(1 for d in self.diagnostics if is_internal_error(d))

    def add(self, outcome: FileOutcome) -> None:
        """Take in the outcome of one file."""
        self.diagnostics.extend(outcome.diagnostics)
        self.sources.update(outcome.sources)
        self.fixed += outcome.fixed
        self.diffs.extend(outcome.diffs)
        if outcome.applied:
            self.applied[outcome.name] = list(outcome.applied)
        if not outcome.converged:
            self.unconverged.append(outcome.name)
        self.summarised.update(outcome.summaries)
        self.summary_seconds += outcome.summary_seconds


@dataclass
class FileTask:
    """One file to analyse; ``data`` when already read (to compute its cache key)."""

    path: Path
    name: str
    ignored: frozenset[str]
    data: Optional[bytes] = None
    digest: Optional[str] = None


@dataclass
class FileOutcome:
    """What analysing one file gave; ``found`` is what the cache keeps (before per-file ignores)."""

    name: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    fixed: int = 0
    diffs: list[str] = field(default_factory=list)
    found: Optional[list[Diagnostic]] = None
    applied: tuple[str, ...] = ()
    converged: bool = True
    #: With ``--fix``: (the bytes read, the fixed bytes) to write, which the parent process does.
    write: Optional[tuple[bytes, bytes]] = None
    #: The project modules whose summaries ``found`` depends on (path -> digest).
    deps: dict[str, str] = field(default_factory=dict)
    #: Summaries built while analysing it (path -> cache entry), and the time that took.
    summaries: dict[str, dict] = field(default_factory=dict)
    summary_seconds: float = 0.0


#: The project summaries of each run in progress, by run: worker processes forked during the run
#: inherit them (the cache's summaries included), so that none builds again what the cache holds.
_RUN_SUMMARIES: dict[int, ProjectSummaries] = {}


def _project_summaries(run_id: int) -> ProjectSummaries:
    """The summaries of a run (a process that did not inherit them starts its own)."""
    summaries = _RUN_SUMMARIES.get(run_id)
    if summaries is None:
        summaries = _RUN_SUMMARIES[run_id] = ProjectSummaries()
    return summaries


def display_name(path: Path) -> str:
    """The path as the user gave or walked it, POSIX style."""
    return path.as_posix()


def ignored_codes(settings: Settings, path: Path) -> set[str]:
    """Codes (or prefixes) that ``per-file-ignores`` turns off for this path."""
    if not settings.per_file_ignores:
        return set()
    root = settings.project_root or Path.cwd()
    try:
        relative = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        relative = path.as_posix()
    codes: set[str] = set()
    for pattern, ignored in settings.per_file_ignores.items():
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern):
            codes.update(ignored)
    return codes


def without_codes(options: LintOptions, ignored: Iterable[str]) -> LintOptions:
    """The options with the rules that ``per-file-ignores`` turns off left out, so that ``--fix``
    never applies their fixes."""
    ignored = tuple(ignored)
    if not ignored:
        return options
    kept = tuple(c for c in options.selected_codes if not any(c.startswith(i) for i in ignored))
    return dataclasses.replace(options, rules=(), codes=kept)


def _filter(diagnostics: list[Diagnostic], ignored: Iterable[str]) -> list[Diagnostic]:
    ignored = tuple(ignored)
    if not ignored:
        return diagnostics
    return [d for d in diagnostics if not any(d.code.startswith(code) for code in ignored)]


def default_jobs() -> int:
    """The machine's cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def lint_paths(
    paths: Iterable[Path], settings: Settings, options: LintOptions, run: RunOptions
) -> RunResult:
    """Lint (and fix) every file found under ``paths``; answers from the cache where it can."""
    result = RunResult()
    forget_resolved_versions()
    forget_layout()
    root = settings.project_root or Path.cwd()
    problems: list[PathProblem] = []
    excludes = [*settings.exclude, *settings.extend_exclude]
    files = list(discover(paths, excludes, root, run.force_exclude, problems))
    result.files = len(files) + len(problems)
    for problem in problems:
        name = display_name(problem.path)
        found = [parse_error(name, problem.message)]
        result.diagnostics.extend(_filter(found, ignored_codes(settings, problem.path)))
    cache = _open_cache(settings, options, run, root)
    run_id = id(result)
    project = _RUN_SUMMARIES[run_id] = ProjectSummaries(cache)
    tasks: list[FileTask] = []
    for path in files:
        task = FileTask(path, display_name(path), frozenset(ignored_codes(settings, path)))
        if (
            cache is not None
            and not _is_notebook(task.name)
            and _answer_from_cache(task, cache, result, options, project)
        ):
            continue
        tasks.append(task)
    if tasks:
        tune_garbage_collector()
    analyse = functools.partial(analyse_file, options=options, run=run, run_id=run_id)
    jobs = max(1, min(run.jobs or default_jobs(), len(tasks) // MIN_FILES_PER_WORKER))
    if jobs > 1:
        _preload(options)
    here = functools.partial(_needs_no_parse, options=options) if jobs == 1 else None
    sizes = [_size(task) for task in tasks]
    sharing = _summary_sharing(run_id) if jobs > 1 else None
    guarded = analyse_guarded(analyse, tasks, sizes, jobs, run.timeout, _failed, here, sharing)
    for task, outcome, seconds in guarded:
        result.seconds[task.name] = seconds
        _take(outcome, task, cache, result)
    _RUN_SUMMARIES.pop(run_id, None)
    if cache is not None:
        cache.save()
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result


def _summary_sharing(run_id: int) -> Sharing[FileOutcome]:
    """Workers tell each other the summaries they build, so that a cold run builds each about once."""
    from bnlint.workers import Sharing

    return Sharing(_new_summaries, functools.partial(_hear_summaries, run_id=run_id))


def _new_summaries(outcome: FileOutcome) -> Optional[dict[str, dict]]:
    return outcome.summaries or None


def _hear_summaries(entries: dict[str, dict], run_id: int) -> None:
    _project_summaries(run_id).hear(entries)


def _failed(task: FileTask, message: str) -> FileOutcome:
    """The outcome of a file whose analysis crashed or ran out of time (not cached)."""
    return FileOutcome(task.name, _filter([parse_error(task.name, message)], task.ignored))


def _needs_no_parse(task: FileTask, options: LintOptions) -> bool:
    """Whether a ``.py`` file can be analysed without parsing it (it holds no trigger word, or cannot
    be read or decoded): then it is analysed in this process. Reads the file into ``task.data``."""
    if _is_notebook(task.name):
        return False
    if task.data is None:
        try:
            task.data = task.path.read_bytes()
        except OSError:
            return True
    try:
        return not may_need_parse(decode_python(task.data).text, options)
    except SourceError:
        return True


def _size(task: FileTask) -> int:
    """A file's size in bytes (0 when it cannot be read: reading it will say why)."""
    try:
        return len(task.data) if task.data is not None else task.path.stat().st_size
    except OSError:
        return 0


def _preload(options: LintOptions) -> None:
    """Import LibCST and the rules before forking workers: they then share those pages (and none of
    them pays the import again)."""
    import libcst  # noqa: F401

    options.rule_classes()


def tune_garbage_collector() -> None:
    """Collect cycles less often while trees are built: LibCST makes millions of short-lived objects,
    and the default thresholds spend about a third of the analysis re-scanning them (measured on the
    benchmark corpus). Memory is unchanged: the trees are freed by reference counting. A young
    generation much larger than this one outgrows the processor's caches: with two workers on two
    cores, 100,000 made the cold benchmark run 4-11% slower than 10,000."""
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _is_notebook(name: str) -> bool:
    return name.endswith(".ipynb")


def _open_cache(settings: Settings, options: LintOptions, run: RunOptions, root: Path):  # type: ignore[no-untyped-def]
    """The results cache of this run, or None (disabled, or fixing: fixes always re-lint)."""
    if not run.cache or run.fix or run.diff:
        return None
    from bnlint.cache import CACHE_DIR_NAME, ResultCache, settings_fingerprint

    directory = run.cache_dir or (
        Path(settings.cache_dir) if settings.cache_dir is not None else Path(CACHE_DIR_NAME)
    )
    if not directory.is_absolute():
        base = settings.project_root or root
        directory = base / directory
    fingerprint = settings_fingerprint(options.selected_codes, options.keras_version)
    return ResultCache(directory, fingerprint)


def _answer_from_cache(  # type: ignore[no-untyped-def]
    task: FileTask, cache, result: RunResult, options: LintOptions, project: ProjectSummaries
) -> bool:
    """Fill in a file from the cache; False (with the file read and keyed) when it is not there.

    The key is the file's content and the Keras version its project declares (a changed pin must
    re-lint the files under it); the project modules whose summaries it used must be unchanged."""
    from bnlint.cache import content_digest

    try:
        task.data = task.path.read_bytes()
    except OSError:
        return False
    task.digest = f"{content_digest(task.data)}:{options.keras_version_for(task.name)}"
    cached = cache.get(task.name, task.digest)
    if cached is None or not project.still_valid(cached[1]):
        return False
    diagnostics = _filter(cached[0], task.ignored)
    result.diagnostics.extend(diagnostics)
    if diagnostics:
        with contextlib.suppress(SourceError):
            result.sources[task.name] = decode_python(task.data).text
    return True


def _take(outcome: FileOutcome, task: FileTask, cache, result: RunResult) -> None:  # type: ignore[no-untyped-def]
    if outcome.write is not None:
        _write(task, outcome)
    result.add(outcome)
    if cache is None:
        return
    for path, entry in outcome.summaries.items():
        cache.put_summary(path, entry)
    if (
        task.digest is not None
        and outcome.found is not None
        and not any(is_internal_error(d) for d in outcome.found)
    ):
        cache.put(task.name, task.digest, outcome.found, outcome.deps)


def _write(task: FileTask, outcome: FileOutcome) -> None:
    """Write a file's fixes; when they cannot be written, the file's outcome says so instead."""
    from bnlint.writes import FileChanged, WriteFailed, replace_contents

    assert outcome.write is not None
    original, fixed = outcome.write
    try:
        replace_contents(task.path, original, fixed)
    except (FileChanged, WriteFailed) as error:
        problem = parse_error(task.name, f"not fixed: {error}")
    except Exception as error:  # a bug of bnlint's: say so, and go on with the other files
        problem = internal_error(task.name, f"writing the fixes: {type(error).__name__}: {error}")
    else:
        return
    outcome.diagnostics = [problem]
    outcome.fixed, outcome.applied, outcome.sources = 0, (), {}


def analyse_file(
    task: FileTask, options: LintOptions, run: RunOptions, run_id: int = 0
) -> FileOutcome:
    """Lint (and fix) one file; bnlint's own failures become a diagnostic, never an exception.

    The summaries of the project modules it imports come from its run's ``ProjectSummaries``; the
    outcome says which modules it used and hands back the summaries built meanwhile (to cache)."""
    project = _project_summaries(run_id)
    summaries = project.for_file(task.path)
    started = project.stats.seconds
    try:
        if _is_notebook(task.name):
            outcome = _analyse_notebook(task, options, run, summaries)
        else:
            outcome = _analyse_python(task, options, run, summaries)
    except Exception as error:  # one file must not stop the run
        outcome = FileOutcome(
            task.name, [internal_error(task.name, f"{type(error).__name__}: {error}")]
        )
    outcome.deps = dict(summaries.used)
    outcome.summaries = project.take_new_entries()
    outcome.summary_seconds = project.stats.seconds - started
    if not outcome.diagnostics:
        outcome.sources = {}  # only reported files need their text (the full format shows lines)
    return outcome


def _read(task: FileTask, outcome: FileOutcome) -> Optional[bytes]:
    """The file's bytes (read now unless already read), or None with the reason added to ``outcome``."""
    if task.data is not None:
        return task.data
    try:
        return task.path.read_bytes()
    except OSError as error:
        outcome.diagnostics.append(
            parse_error(task.name, f"cannot read: {error.strerror or error}")
        )
        return None


def _analyse_python(
    task: FileTask, options: LintOptions, run: RunOptions, summaries: FileSummaries
) -> FileOutcome:
    outcome = FileOutcome(task.name)
    data = _read(task, outcome)
    if data is None:
        return outcome
    try:
        source = decode_python(data)
    except SourceError as error:
        outcome.found = [parse_error(task.name, str(error), error.row, error.column)]
        outcome.diagnostics = list(outcome.found)
        return outcome
    name = task.name
    outcome.sources[name] = source.text
    if not (run.fix or run.diff):
        outcome.found = lint_text(source.text, name, options, summaries)
        outcome.diagnostics = _filter(outcome.found, task.ignored)
        return outcome
    from bnlint.fix_loop import fix_text

    fixed = fix_text(
        source.text, name, without_codes(options, task.ignored), run.unsafe_fixes, summaries
    )
    outcome.diagnostics = _filter(fixed.remaining, task.ignored)
    outcome.converged = fixed.converged
    if fixed.text == source.text:
        return outcome
    if run.diff:
        outcome.diffs.append(unified_diff(name, source.text, fixed.text))
        outcome.fixed += fixed.fixed
        outcome.applied = fixed.applied
        return outcome
    outcome.write = (data, source.encode(fixed.text))
    outcome.fixed += fixed.fixed
    outcome.applied = fixed.applied
    outcome.sources[name] = fixed.text
    return outcome


def _analyse_notebook(
    task: FileTask, options: LintOptions, run: RunOptions, summaries: FileSummaries
) -> FileOutcome:
    from bnlint.notebooks import check_notebook

    outcome = FileOutcome(task.name)
    data = _read(task, outcome)
    if data is None:
        return outcome
    notebook = check_notebook(
        data,
        task.name,
        without_codes(options, task.ignored),
        fix=run.fix or run.diff,
        unsafe=run.unsafe_fixes,
        summaries=summaries,
    )
    outcome.diagnostics = _filter(notebook.diagnostics, task.ignored)
    outcome.sources.update(notebook.sources)
    outcome.fixed = notebook.fixed
    outcome.applied = notebook.applied
    if run.diff:
        outcome.diffs.extend(notebook.diffs)
    if run.fix and not run.diff and notebook.data is not None:
        outcome.write = (data, notebook.data)
    return outcome


def unified_diff(name: str, before: str, after: str) -> str:
    """A unified diff of a file's fix, as ``--diff`` prints it."""
    import difflib

    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=name,
            tofile=name,
        )
    )


def lint_stdin(
    data: bytes, name: str, settings: Settings, options: LintOptions, run: RunOptions
) -> RunResult:
    """Lint (and with ``--fix``, fix) source read from standard input, in a worker process under the
    time limit unless it needs no parse. With ``--fix``, ``fixed_data`` is what to print: the fixed
    bytes, or the bytes read when nothing could be fixed."""
    analyse = functools.partial(_lint_stdin_here, data, name, settings, options)
    task = FileTask(Path(name), name, frozenset(), data)
    if _needs_no_parse(task, options):
        result = analyse(run)
    else:
        ignored = ignored_codes(settings, Path(name))

        def failed(message: str) -> RunResult:
            return RunResult(files=1, diagnostics=_filter([parse_error(name, message)], ignored))

        result = call_guarded(analyse, run, run.timeout, failed)
    if run.fix and result.fixed_data is None:
        result.fixed_data = data
    return result


def _lint_stdin_here(
    data: bytes, name: str, settings: Settings, options: LintOptions, run: RunOptions
) -> RunResult:
    result = RunResult(files=1)
    forget_resolved_versions()
    forget_layout()
    ignored = ignored_codes(settings, Path(name))
    summaries = ProjectSummaries().for_file(Path(name if name != "-" else "stdin.py"))
    if _is_notebook(name):
        from bnlint.notebooks import check_notebook

        notebook = check_notebook(
            data,
            name,
            without_codes(options, ignored),
            fix=run.fix or run.diff,
            unsafe=run.unsafe_fixes,
            summaries=summaries,
        )
        result.diagnostics = _filter(notebook.diagnostics, ignored)
        result.sources.update(notebook.sources)
        result.fixed = notebook.fixed
        if notebook.applied:
            result.applied[name] = list(notebook.applied)
        if run.diff:
            result.diffs.extend(notebook.diffs)
        if run.fix:
            result.fixed_data = notebook.data
        return result
    try:
        source = decode_python(data)
    except SourceError as error:
        result.diagnostics.append(parse_error(name, str(error), error.row, error.column))
        return result
    result.sources[name] = source.text
    if run.fix or run.diff:
        from bnlint.fix_loop import fix_text

        fixed = fix_text(
            source.text, name, without_codes(options, ignored), run.unsafe_fixes, summaries
        )
        if not fixed.converged:
            result.unconverged.append(name)
        result.diagnostics = _filter(fixed.remaining, ignored)
        result.fixed = fixed.fixed
        if fixed.applied:
            result.applied[name] = list(fixed.applied)
        if run.diff and fixed.text != source.text:
            result.diffs.append(unified_diff(name, source.text, fixed.text))
        if fixed.text != source.text:
            result.fixed_data = source.encode(fixed.text)
    else:
        result.diagnostics = _filter(lint_text(source.text, name, options, summaries), ignored)
    return result
