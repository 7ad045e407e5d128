"""Whether the author marked a call-time ``training`` value as intended: comments and names.

Monte Carlo dropout and similar techniques keep Dropout or BatchNormalization in training mode on
purpose. Authors say so in a comment on the call's line or just above it, or in the name of the
function or class (``mc_dropout_predict``, ``MCDropout``); rules about ``training=True`` stay silent then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Optional

import libcst as cst

#: Comment text that says keeping training mode on is deliberate.
_INTENT_COMMENT = re.compile(
    r"monte[\s_-]*carlo|\bmc\b|\bmc[\s_-]*(?:dropout|sampl|inference|pass|predict)|mcdropout"
    r"|intention|on purpose|deliberate|by design|uncertaint|bayesian|stochastic"
    r"|keep(?:s|ing)?\s+(?:the\s+)?(?:dropout|batch\s*norm|bn\b|training)"
    r"|dropout\s+(?:at|during|in)\s+(?:inference|test|prediction|eval)",
    re.IGNORECASE,
)

#: Name words (after splitting snake_case and CamelCase) that say the same.
_INTENT_WORDS = frozenset({"mc", "mcdropout", "montecarlo", "bayesian", "uncertainty"})

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def name_words(name: str) -> list[str]:
    """``MCDropout`` -> ``["mc", "dropout"]``; ``val_step`` -> ``["val", "step"]``."""
    return [word.lower() for part in name.split("_") for word in _WORD.findall(part)]


def names_mark_intent(names: Iterable[Optional[str]]) -> bool:
    """Whether any of these function or class names says Monte Carlo / uncertainty."""
    for name in names:
        if not name:
            continue
        words = name_words(name)
        joined = "".join(words)
        if _INTENT_WORDS.intersection(words) or "montecarlo" in joined or "mcdropout" in joined:
            return True
    return False


def comments_mark_intent(statement: Optional[cst.CSTNode]) -> bool:
    """Whether a comment on the statement's lines, or just above it, marks training mode as intended."""
    return statement is not None and any(
        _INTENT_COMMENT.search(text) for text in statement_comments(statement)
    )


def statement_comments(statement: cst.CSTNode) -> Iterator[str]:
    """The comments above a statement (up to the previous one) and on its own lines.

    For a compound statement (``with``, ``if``, ...) only its header line counts, not its body.
    """
    if isinstance(statement, cst.BaseCompoundStatement):
        for line in getattr(statement, "leading_lines", ()):
            if line.comment is not None:
                yield line.comment.value
        header = getattr(getattr(statement, "body", None), "header", None)
        if isinstance(header, cst.TrailingWhitespace) and header.comment is not None:
            yield header.comment.value
        return
    stack: list[cst.CSTNode] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Comment):
            yield node.value
        else:
            stack.extend(node.children)


def in_test_function(functions: Iterable[str]) -> bool:
    """Whether the code sits in a pytest/unittest ``test*`` function, which exercises modes on purpose.

    Names ending in ``_step`` (``test_step``, ``test_one_step``) are custom-loop evaluation steps.
    """
    return any(
        name.startswith("test") and not name.endswith("_step") and name != "test_step"
        for name in functions
    )


def guards_mark_intent(guards: Iterable[object]) -> bool:
    """Whether an enclosing ``if`` tests a Monte Carlo flag (``if mc:``, ``if self.mc_dropout:``)."""
    for guard in guards:
        test = getattr(guard, "test", None)
        if test is None or getattr(guard, "holds", True) is not True:
            continue
        stack: list[cst.CSTNode] = [test]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name) and names_mark_intent([node.value]):
                return True
            stack.extend(node.children)
    return False


def training_true_intended(event: object) -> bool:
    """Whether a call's ``training=True`` is declared intentional: a Monte Carlo / intentional
    comment on or above its line, a Monte Carlo function or class name, or an ``if`` on such a flag."""
    context = getattr(event, "context", None)
    if context is None:
        return False
    return (
        comments_mark_intent(getattr(event, "statement", None))
        or names_mark_intent((*context.functions, context.class_name))
        or guards_mark_intent(context.guards)
    )
