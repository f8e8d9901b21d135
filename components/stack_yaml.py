"""Reading a stack file's YAML without trusting it.

Before the environment is validated, the file itself is refused when it is missing, a
directory, over 1 MB or not UTF-8; when it is not YAML, repeats a key (YAML would keep the last
one silently) or expands past ``MAX_YAML_VALUES`` through aliases (a few hundred bytes could
expand to gigabytes); and when it holds what JSON, and so the Pulumi engine's config, cannot
(``!!binary``, unquoted dates, sets). No pulumi import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.quoting import shown

MAX_YAML_VALUES = 100_000
"""A stack file expands to at most this many values (YAML aliases included): an alias bomb
of a few hundred bytes would otherwise expand to gigabytes."""
MAX_STACK_FILE_BYTES = 1_000_000


class _Refused(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem


def _read_text(path: Path) -> str:
    """The stack file as text; a missing, unreadable, huge or binary file is refused."""
    try:
        if path.is_dir():
            raise _Refused("is a directory; expected a Pulumi.<stack>.yaml file")
        size = path.stat().st_size
        if size > MAX_STACK_FILE_BYTES:
            raise _Refused(
                f"is {size} bytes; a stack file is at most {MAX_STACK_FILE_BYTES} bytes of YAML"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise _Refused("stack file not found") from None
    except OSError as exc:
        raise _Refused(f"cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "a stack file is YAML text"
        ) from None


_PLAIN = (str, int, float, bool, type(None))


def _non_plain_values(document: Any) -> list[str]:
    """Paths holding what JSON (and so the Pulumi engine's config) cannot: ``!!binary``
    bytes, YAML timestamps, sets, non-string keys."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack and len(problems) < 10:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(
                        f"{path or 'the file'}: key {shown(key)} is not a string; allowed: "
                        "string keys"
                    )
                    continue
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif not isinstance(value, _PLAIN):
            kind = "binary data (!!binary)" if isinstance(value, bytes) else type(value).__name__
            problems.append(
                f"{path}: {kind} {shown(value)} is not allowed; allowed: a string, number, "
                "boolean, list or mapping (quote dates and other text)"
            )
    return problems


def _expanded_size(value: Any, limit: int) -> int:
    """How many values ``value`` expands to, counting shared (aliased) parts each time they
    appear; stops counting past ``limit``."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _yaml_loader() -> Any:
    """A safe loader (libyaml when available) that refuses duplicate keys."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {shown(key)} (also at line {seen[key].line + 1}): "
                        "YAML would silently keep the last one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def read_document(path: Path) -> tuple[Any, list[str]]:
    """The parsed document, or the problems that refuse the file (one line each)."""
    import yaml

    try:
        document = yaml.load(_read_text(path), Loader=_yaml_loader())
    except _Refused as refused:
        return None, [refused.problem]
    except yaml.YAMLError as exc:
        return None, [f"not valid YAML: {str(exc)[:1000]}"]
    if _expanded_size(document, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        return None, [
            f"the file expands to more than {MAX_YAML_VALUES} values (YAML aliases repeating "
            "large parts?); a stack file needs far fewer: write the values out"
        ]
    return document, _non_plain_values(document)
