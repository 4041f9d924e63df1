"""The documented input limits (issue #10) and the checks every way in shares.

One set of rules for text that reaches the database, whichever way it comes: the API's JSON
parser (`opsportal.api.parsers`), the admin's forms (`opsportal.admin.ServiceModelForm`) and, for
what was stored before these rules, `manage.py check_integrity` (invariant `text`) and the renderers
(`opsportal.api.renderers`, `opsportal.admin_html`), which draw such text with U+FFFD.

- A body is at most `MAX_BODY_BYTES` (Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`): larger → 413.
- Arrays and objects nest at most `MAX_DEPTH` levels (a release with features and tasks needs 5).
- No string, and no key, holds a lone UTF-16 surrogate (`"\\ud83d"` alone: it has no UTF-8 form, so
  every encoder after the parser — SQLite, BSON, the JSON renderer, the admin's HTML — fails on it)
  or a NUL character (it ends a C string: logs, drivers and other tools cut the text there).
- Lengths and counts: `NAME_MAX_LENGTH`, `DESCRIPTION_MAX_LENGTH`, `NOTES_MAX_LENGTH` on the models;
  the embedded documents' `maxLength`/`maxItems` in each app's `schemas.py`. The API documents them
  all in its OpenAPI schema.
- An error message quotes at most `EXCERPT_CHARS` characters of the input (`excerpt`), and no message
  is longer than `MESSAGE_MAX_CHARS` (`short_message`): a refusal never echoes a large input back.

Plumbing: imports no app.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

MAX_BODY_BYTES = 2 * 1024 * 1024  # 2 MiB
MAX_DEPTH = 32
NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000
NOTES_MAX_LENGTH = 5_000
EXCERPT_CHARS = 80
MESSAGE_MAX_CHARS = 300
MAX_PROBLEMS = 10  # problems listed in one refusal

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_TEXT = re.compile("[\ud800-\udfff\x00]")

LONE_SURROGATE = "contains a lone UTF-16 surrogate"
NUL = "contains a NUL character"


def text_problem(text: str) -> str | None:
    """What makes `text` unstorable (`LONE_SURROGATE`, `NUL`), or None."""
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    return NUL if found.group() == "\x00" else LONE_SURROGATE


def _escaped(char: str) -> str:
    if _SURROGATE.match(char) or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}"
    return char


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of `value`, with control characters and lone surrogates written as
    escapes (`\\ud83d`, `\\x00`) and `…` when cut: safe to put in a message, a log line or HTML."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[:limit]
    return "".join(map(_escaped, cut)) + ("…" if len(text) > limit else "")


_QUOTED = re.compile(rf'"([^"]{{{EXCERPT_CHARS + 1},}})"|\'([^\']{{{EXCERPT_CHARS + 1},}})\'')


def _shorten_quoted(match: re.Match) -> str:
    quote = '"' if match.group(1) is not None else "'"
    return quote + excerpt(match.group(1) if match.group(1) is not None else match.group(2)) + quote


def short_message(message: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    """`message` made safe to send back: a long quoted value in it (how DRF and jsonschema quote the
    input: `"…" is not a valid choice.`) cut to an `excerpt`, control characters escaped, and when still
    longer than `limit` its head and tail with `…` between."""
    message = _QUOTED.sub(_shorten_quoted, message)
    if len(message) <= limit:
        return excerpt(message, limit)
    tail = limit // 4
    return excerpt(message[: limit - tail], limit) + "…" + excerpt(message[-tail:], tail)


def _segment(key: Any) -> str:
    return f"[{key}]" if isinstance(key, int) else f".{excerpt(key, 40)}"


def join_path(root: str, key: Any) -> str:
    """`features[0].name`: the path of `key` inside `root` (`root` may be empty)."""
    segment = _segment(key)
    return (root + segment) if root or isinstance(key, int) else segment[1:]


def _walk(value: Any, root: str) -> Iterator[tuple[str, Any, int]]:
    """(path, value, depth) of every value inside `value`, keys included (as `str` values), iteratively."""
    stack: list[tuple[str, Any, int]] = [(root, value, 0)]
    while stack:
        path, node, depth = stack.pop()
        yield path, node, depth
        if isinstance(node, dict):
            items = list(node.items())
            for key, item in reversed(items):
                child = join_path(path, key)
                if isinstance(key, str):
                    yield child, key, depth + 1
                stack.append((child, item, depth + 1))
        elif isinstance(node, list | tuple):
            stack.extend((join_path(path, index), item, depth + 1) for index, item in reversed(list(enumerate(node))))


def document_problems(value: Any, *, root: str = "", max_depth: int = MAX_DEPTH) -> list[tuple[str, str]]:
    """(path, message) for each string or key that `text_problem` refuses and for nesting deeper than
    `max_depth` (at most `MAX_PROBLEMS` of them): what the parser and the forms refuse."""
    problems: list[tuple[str, str]] = []
    for path, node, depth in _walk(value, root):
        if depth + 1 > max_depth and isinstance(node, dict | list | tuple):  # the root is level 1
            problems.append((path or "(body)", f"is nested more than {max_depth} levels deep."))
            break  # everything below is deeper still
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                problems.append((path or "(body)", f"{problem}: “{excerpt(node)}”."))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def bad_text_paths(value: Any, *, root: str = "") -> list[str]:
    """Paths of the strings and keys in `value` that hold a lone surrogate or a NUL (stored data)."""
    return [path for path, node, _ in _walk(value, root) if isinstance(node, str) and text_problem(node)]


def replace_bad_text(value: Any, *, nul: bool = True) -> Any:
    """`value` with every lone surrogate (and NUL, unless `nul=False`) in its strings and keys replaced
    by U+FFFD; containers are copied, other values kept. Renderers use `nul=False` (NUL is valid JSON)."""
    pattern = _BAD_TEXT if nul else _SURROGATE

    def clean(node: Any) -> Any:
        if isinstance(node, str):
            return pattern.sub(REPLACEMENT, node)
        if isinstance(node, dict):
            return {clean(key): clean(item) for key, item in node.items()}
        if isinstance(node, list | tuple):
            return [clean(item) for item in node]
        return node

    return clean(value)


def replace_lone_surrogates(text: str) -> str:
    """`text` with its lone surrogates replaced by U+FFFD (for renderers of text, e.g. HTML)."""
    return _SURROGATE.sub(REPLACEMENT, text)
