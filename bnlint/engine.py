"""One source in, diagnostics out: prefilter, guarded parse, facts, rules, positions, suppression."""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Optional, TypeVar

from bnlint.code_text import code_only
from bnlint.diagnostics import Diagnostic, Edit, Fix, Position, Severity

#: The reserved code for files that cannot be read, decoded or parsed.
PARSE_ERROR_CODE = "BNL000"
PARSE_ERROR_NAME = "parse-error"

#: The name of the reserved code when bnlint itself fails on a file (a bug to report, exit code 2).
INTERNAL_ERROR_NAME = "internal-error"

#: What a file must do itself for the project modules it imports to matter: train, compile, set
#: ``trainable``, record gradients (a helper or a model from ``models.py`` is then used in it).
#: Code that only builds layers (a library's own modules) is analysed alone, at no extra cost.
PROJECT_ACTIVITY = re.compile(
    r"\.trainable\s*=[^=]|setattr\([^)\n]*trainable|\.fit\(|train_on_batch|fit_generator"
    r"|GradientTape|\btrain_step\b|(?<!\bre)\.compile\(|\.load_weights\("
)
#: Every match of PROJECT_ACTIVITY holds one of these (testing them first is three times faster).
_ACTIVITY_WORDS = (
    "trainable",
    ".fit(",
    "train_on_batch",
    "fit_generator",
    "GradientTape",
    "train_step",
    ".compile(",
    ".load_weights(",
)


def has_project_activity(text: str) -> bool:
    """Whether the text trains, compiles, sets ``trainable`` or records gradients (see
    ``PROJECT_ACTIVITY``)."""
    return any(word in text for word in _ACTIVITY_WORDS) and bool(PROJECT_ACTIVITY.search(text))


if TYPE_CHECKING:
    from bnlint.facts.summaries import Member, SummaryProvider

T = TypeVar("T")


@dataclass(frozen=True)
class LintOptions:
    """The rules to run and the targeted Keras version.

    Rules are named by ``codes`` (their classes are imported only when a file needs analysing) or given
    as classes in ``rules``; with neither, every rule runs.
    """

    rules: tuple = ()
    keras_version: str = "both"
    codes: Optional[tuple[str, ...]] = None
    #: With ``keras_version="auto"``: where to look for the project's declared dependencies. They
    #: are read only once a file needs analysing, so a run with nothing to parse never reads them.
    keras_version_start: Optional[str] = None

    @property
    def target_keras_version(self) -> str:
        """The Keras version the messages describe: "2", "3" or "both" (for ``auto``, as the
        project at ``keras_version_start`` declares)."""
        if self.keras_version == "auto":
            return _resolve_auto_version(self.keras_version_start or ".")
        return self.keras_version

    def multi_backend_keras_for(self, filename: str) -> bool:
        """Whether the nearest project around the file pins multi-backend Keras (below 2.4)."""
        folder = _folder_of(filename) or self.keras_version_start or "."
        return _declares_multi_backend(folder)

    def keras_version_for(self, filename: str) -> str:
        """The targeted Keras version of one file: for ``auto``, what the nearest project around
        the file declares (a book's chapter folder may pin its own Keras)."""
        if self.keras_version != "auto":
            return self.keras_version
        folder = _folder_of(filename)
        return _resolve_auto_version(folder) if folder else self.target_keras_version

    @property
    def selected_codes(self) -> tuple[str, ...]:
        """The codes of the rules to run."""
        if self.rules:
            return tuple(rule.code for rule in self.rules)
        if self.codes is not None:
            return self.codes
        from bnlint.rules import available_codes

        return tuple(available_codes())

    @property
    def triggers(self) -> tuple:
        """The triggers (words, or tuples of words) without which none of the selected rules fires."""
        if self.rules:
            words: list[str] = []
            for rule in self.rules:
                words.extend(word for word in rule.triggers if word not in words)
            return tuple(words)
        return _triggers(self.selected_codes)

    def rule_classes(self) -> tuple:
        """The rule classes to run (imports them)."""
        if self.rules:
            return self.rules
        from bnlint.rules import load_rules

        return load_rules(self.selected_codes)

    def rules_triggered_in(self, code: str, imported: str = "") -> tuple:
        """The rule classes whose triggers occur in ``code`` (a text's code, see ``code_only``), or,
        for rules that read project summaries, in ``imported`` (the trigger words found in the
        project modules it imports): the others cannot fire there, so they are neither imported
        nor run."""
        if self.rules:
            return tuple(
                rule
                for rule in self.rules
                if _holds_trigger(code, tuple(rule.triggers))
                or (rule.reads_project and _holds_trigger(imported, tuple(rule.triggers)))
            )
        from bnlint.rules import load_rules, rule_catalog

        catalog = rule_catalog()
        return load_rules(
            [
                c
                for c in self.selected_codes
                if _holds_trigger(code, catalog[c][1])
                or (catalog[c][2] and _holds_trigger(imported, catalog[c][1]))
            ]
        )


def forget_resolved_versions() -> None:
    """Read the projects' dependency files again (at the start of each run: they may have changed
    since a previous run in the same process, such as the language server's)."""
    _resolve_auto_version.cache_clear()
    _declares_multi_backend.cache_clear()
    dependencies = sys.modules.get("bnlint.project.dependencies")  # not imported just to clear it
    if dependencies is not None:
        dependencies.forget_project_roots()


def _folder_of(filename: str) -> Optional[str]:
    """The existing folder that holds ``filename`` (None for standard input or a made-up name)."""
    import os.path

    if filename in ("", "-"):
        return None
    folder = os.path.dirname(os.path.abspath(filename))
    return folder if os.path.isdir(folder) else None


@lru_cache(maxsize=4096)
def _declares_multi_backend(start: str) -> bool:
    from pathlib import Path

    from bnlint.project.dependencies import declares_multi_backend_keras

    return declares_multi_backend_keras(Path(start))


@lru_cache(maxsize=4096)
def _resolve_auto_version(start: str) -> str:
    from pathlib import Path

    from bnlint.project.keras_version import resolve_keras_version

    return resolve_keras_version("auto", Path(start))


@lru_cache(maxsize=64)
def _triggers(codes: tuple[str, ...]) -> tuple:
    from bnlint.rules import triggers_of

    return triggers_of(codes)


def passes_prefilter(text: str, options: LintOptions) -> bool:
    """Whether a text holds a trigger of the selected rules in its code (else it is not parsed).

    A trigger is a word, or a tuple of words that must all occur. Words in comments and docstrings do
    not count: a file that only talks about training cannot fire a rule (in the benchmark corpus, a
    quarter of the files that mention a trigger word do so only there).
    """
    triggers = options.triggers
    return _holds_trigger(text, triggers) and _holds_trigger(code_only(text), triggers)


def may_need_parse(text: str, options: LintOptions) -> bool:
    """Whether ``lint_text`` may parse the text: it passes the prefilter, or it trains or changes
    models (then the trigger words of the project modules it imports count too). When false,
    ``lint_text`` returns at once, with nothing."""
    return passes_prefilter(text, options) or has_project_activity(text)


def _holds_trigger(text: str, triggers: tuple) -> bool:
    for trigger in triggers:
        if isinstance(trigger, str):
            if trigger in text:
                return True
        elif all(word in text for word in trigger):
            return True
    return False


def parse_error(filename: str, message: str, row: int = 1, column: int = 1) -> Diagnostic:
    """The one diagnostic of a file that could not be read, decoded or parsed."""
    return Diagnostic(
        code=PARSE_ERROR_CODE,
        name=PARSE_ERROR_NAME,
        severity=Severity.ERROR,
        message=message,
        filename=filename,
        start=Position(row, column),
        end=Position(row, column),
    )


def internal_error(filename: str, what: str) -> Diagnostic:
    """The diagnostic of a file on which bnlint itself failed; the rest of the run goes on."""
    return Diagnostic(
        code=PARSE_ERROR_CODE,
        name=INTERNAL_ERROR_NAME,
        severity=Severity.ERROR,
        message=f"internal error: {what}; please report it at https://github.com/bnlint/bnlint/issues",
        filename=filename,
        start=Position(1, 1),
        end=Position(1, 1),
    )


def is_internal_error(diagnostic: Diagnostic) -> bool:
    """Whether a diagnostic says bnlint failed (rather than the linted code)."""
    return diagnostic.code == PARSE_ERROR_CODE and diagnostic.name == INTERNAL_ERROR_NAME


#: The stack of the thread that parses and analyses: deep but valid code recurses once per level.
_LARGE_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 60_000


class _LargeStackThread:
    """One long-lived daemon thread with a large stack per process.

    A new thread per file would cost a tenth of the parse: every file would touch fresh stack pages.
    The thread is started again in a forked child, where the parent's no longer runs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner_pid = -1
        self._requests: Optional[queue.SimpleQueue] = None
        self._thread_ident: Optional[int] = None

    def run(self, function: Callable[[], T]) -> T:
        """``function()`` on the large-stack thread (directly when already on it)."""
        if threading.get_ident() == self._thread_ident and os.getpid() == self._owner_pid:
            return function()
        requests = self._requests_of_this_process()
        outcome: list[tuple[bool, object]] = []
        done = threading.Event()
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        try:
            requests.put((function, outcome, done))
            done.wait()
        finally:
            sys.setrecursionlimit(old_limit)
        succeeded, value = outcome[0]
        if not succeeded:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def _requests_of_this_process(self) -> queue.SimpleQueue:
        with self._lock:
            if self._requests is None or self._owner_pid != os.getpid():
                requests: queue.SimpleQueue = queue.SimpleQueue()
                old_size = threading.stack_size()
                threading.stack_size(_LARGE_STACK_BYTES)
                try:
                    thread = threading.Thread(
                        target=_serve, args=(requests,), name="bnlint-lint", daemon=True
                    )
                    thread.start()
                finally:
                    threading.stack_size(old_size)
                self._requests, self._thread_ident = requests, thread.ident
                self._owner_pid = os.getpid()
            return self._requests


def _serve(requests: queue.SimpleQueue) -> None:
    while True:
        function, outcome, done = requests.get()
        try:
            outcome.append((True, function()))
        except BaseException as error:
            outcome.append((False, error))
        finally:
            done.set()


_large_stack_thread = _LargeStackThread()


def run_with_large_stack(function: Callable[[], T]) -> T:
    """Run ``function`` on a thread with a large stack and a raised recursion limit.

    LibCST and the facts engine recurse once per nesting level; valid code nested a few hundred levels
    deep would otherwise raise RecursionError.
    """
    return _large_stack_thread.run(function)


def lint_text(
    text: str,
    filename: str,
    options: LintOptions,
    summaries: Optional[SummaryProvider] = None,
) -> list[Diagnostic]:
    """All diagnostics for one source text (noqa applied, sorted, fixes attached); ``summaries``
    gives the summaries of the project modules it imports (without it, the file stands alone)."""
    imported = ""
    code: Optional[str] = None
    if summaries is not None and has_project_activity(text):
        code = code_only(text)
        imported = " ".join(summaries.imported_words(code, options.triggers))
    else:
        summaries = None
    if not _holds_trigger(text, options.triggers) and not imported:
        return []
    if code is None:
        code = code_only(text)
    rules = options.rules_triggered_in(code, imported)
    if not rules:
        return []
    return run_with_large_stack(
        lambda: _quietly(_lint, text, code, filename, options, rules, summaries)
    )


def summarize_source(
    text: str, name: str, summaries: Optional[SummaryProvider] = None
) -> Optional[Member]:
    """What ``name`` is in a project module's source (or the part of it that defines it), or None
    when it does not parse (it is then unknown to its importers; it gets its own BNL000 only if it
    is linted itself)."""

    def summarize() -> Optional[Member]:
        import libcst as cst

        from bnlint.facts.builder import summarize_member
        from bnlint.parse_guard import needs_precheck, precheck
        from bnlint.parse_in_parts import parse_module

        problem, fatal = precheck(text) if needs_precheck(text) else (None, False)
        if problem is not None and fatal:
            return None
        try:
            module = parse_module(text)
        except cst.ParserSyntaxError:
            module, _ = _parse_with_tabs_expanded(text, parse_module)
            if module is None:
                return None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            return None
        try:
            return summarize_member(module, name, code_only(text), summaries)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # a bug summarising a module must not stop its importers' linting
            return None

    return run_with_large_stack(lambda: _quietly(summarize))


def _quietly(function: Callable[..., T], *arguments: object) -> T:
    """``function(*arguments)`` with Python's warnings silenced: the linted code's ``SyntaxWarning``
    (an invalid escape such as ``"\\d"``, raised again by every ``literal_eval`` of its strings) is not
    bnlint's to print."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*arguments)


def _lint(
    text: str,
    code: str,
    filename: str,
    options: LintOptions,
    rules: tuple,
    summaries: Optional[SummaryProvider] = None,
) -> list[Diagnostic]:
    import libcst as cst

    from bnlint.facts import build_facts
    from bnlint.facts.version_hints import file_keras_version, multi_backend_keras
    from bnlint.parse_guard import needs_precheck, precheck
    from bnlint.parse_in_parts import parse_module
    from bnlint.positions import PositionIndex, split_lines
    from bnlint.rules.base import RuleContext

    problem, fatal = precheck(text) if needs_precheck(text) else (None, False)
    if problem is not None and fatal:
        return [parse_error(filename, f"cannot parse: {problem[0]}", problem[1])]
    expanded = None
    try:
        module = parse_module(text)
    except cst.ParserSyntaxError as error:
        if problem is None:
            problem, _ = precheck(text)  # CPython's syntax errors read better than LibCST's
        if problem is not None:
            return [parse_error(filename, f"syntax error: {problem[0]}", problem[1], problem[2])]
        module, expanded = _parse_with_tabs_expanded(text, parse_module)
        if module is None:
            return [
                parse_error(
                    filename,
                    f"syntax error: {error.message}",
                    error.raw_line,
                    error.raw_column + 1,
                )
            ]
    except RecursionError:
        return [parse_error(filename, "cannot parse: too deeply nested to analyse")]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # LibCST's native parser can panic (a BaseException)
        return [
            parse_error(
                filename,
                f"cannot parse: LibCST's parser failed on this file ({type(error).__name__}: "
                f"{error}); please report it at https://github.com/bnlint/bnlint/issues",
            )
        ]

    try:
        facts = build_facts(module, code, summaries)
    except RecursionError:
        return [parse_error(filename, "cannot analyse: too deeply nested")]
    except Exception as error:  # a bug in bnlint must not stop the run
        return [
            internal_error(filename, f"the facts engine failed ({type(error).__name__}: {error})")
        ]
    context = RuleContext(
        facts,
        text,
        lambda: file_keras_version(options.keras_version_for(filename), facts.imports),
        lambda: multi_backend_keras(facts.imports) or options.multi_backend_keras_for(filename),
    )
    positions = PositionIndex(module)
    suppressions = None
    diagnostics: dict[tuple, Diagnostic] = {}
    for rule_class in rules:
        rule = rule_class()
        try:
            findings = list(rule.check(context))
        except Exception as error:  # one failing rule must not hide the others
            failure = internal_error(
                filename, f"{rule.code} failed ({type(error).__name__}: {error})"
            )
            diagnostics.setdefault((rule.code, "internal"), failure)
            continue
        for finding in findings:
            start, end = positions.range(finding.node)
            if suppressions is None:
                from bnlint.suppression import find_suppressions

                suppressions = find_suppressions(split_lines(text))
            if suppressions.suppresses(rule.code, (start.row, end.row)):
                continue
            fix = None
            if finding.fix is not None:
                edits = tuple(
                    Edit(edit.replacement, *positions.range(edit.node))
                    for edit in finding.fix.edits
                )
                fix = Fix(finding.fix.applicability, finding.fix.message, edits)
            diagnostic = Diagnostic(
                code=rule.code,
                name=rule.name,
                severity=finding.severity or rule.severity,
                message=finding.message,
                filename=filename,
                start=start,
                end=end,
                fix=fix,
                url=rule.url(),
            )
            diagnostics.setdefault((rule.code, start, end), diagnostic)
    found = list(diagnostics.values())
    if expanded is not None:
        found = [expanded.restore(diagnostic) for diagnostic in found]
    return sorted(found, key=Diagnostic.sort_key)


def _parse_with_tabs_expanded(text: str, parse: Callable[[str], T]) -> tuple[Optional[T], object]:
    """(the module, the expansion) when LibCST parses the text once its indentation tabs are
    expanded (CPython accepted it), else (None, None)."""
    import libcst as cst

    from bnlint.indentation import expand_indentation_tabs

    expanded = expand_indentation_tabs(text)
    if expanded is None:
        return None, None
    try:
        return parse(expanded.text), expanded
    except cst.ParserSyntaxError:
        return None, None
