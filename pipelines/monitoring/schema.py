"""``--schema FILE``: the columns of a dataset, when a header or inference is not enough.

JSON or YAML::

    header: false          # the files have no header line (default: detected)
    label: 0               # a column left out of the features (index or name; default: none)
    features:              # names (and kinds) in column order, the label's column excluded
      - {name: tenure, kind: numeric}
      - {name: plan, kind: categorical}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.monitoring.profile import Kind
from pipelines.monitoring.tables import LABEL

MAX_SCHEMA_BYTES = 1 << 20


class SchemaError(ValueError):
    pass


@dataclass(frozen=True)
class Schema:
    header: bool | None = None
    label: int | str | None = None
    names: list[str] | None = None
    kinds: dict[str, Kind] = field(default_factory=dict)

    @property
    def label_index(self) -> int | None:
        return self.label if isinstance(self.label, int) else None

    def skipped(self) -> set[str]:
        """Columns that are not features: the label (by name, or as ``tables.LABEL``)."""
        if self.label is None:
            return set()
        return {LABEL if isinstance(self.label, int) else str(self.label)}


def _fail(path: Path, where: str, value: Any, allowed: str) -> SchemaError:
    return SchemaError(f"--schema {str(path)!r}: {where} is {value!r}; {allowed}")


def read_schema(path: Path) -> Schema:
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"--schema {str(path)!r}: cannot read it ({exc.strerror})") from None
    if len(raw) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"--schema {str(path)!r}: {len(raw)} bytes; at most {MAX_SCHEMA_BYTES}")
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SchemaError(f"--schema {str(path)!r}: not JSON or YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail(path, "the document", doc, "expected a mapping with header, label, features")
    unknown = sorted(set(doc) - {"header", "label", "features"})
    if unknown:
        raise _fail(path, "key", unknown[0], "allowed: header, label, features")
    header = doc.get("header")
    if header is not None and not isinstance(header, bool):
        raise _fail(path, "header", header, "expected true or false")
    label = doc.get("label")
    if label is not None and (isinstance(label, bool) or not isinstance(label, int | str)):
        raise _fail(path, "label", label, "expected a column index or name")
    if isinstance(label, int) and label < 0:
        raise _fail(path, "label", label, "expected a column index ≥ 0")
    names: list[str] | None = None
    kinds: dict[str, Kind] = {}
    features = doc.get("features")
    if features is not None:
        if not isinstance(features, list) or not features:
            raise _fail(path, "features", features, "expected a non-empty list")
        names = []
        for i, f in enumerate(features):
            f = {"name": f} if isinstance(f, str) else f
            if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f["name"]:
                raise _fail(path, f"features[{i}]", f, "expected {name, kind} or a name")
            if set(f) - {"name", "kind"}:
                raise _fail(path, f"features[{i}]", f, "allowed keys: name, kind")
            kind = f.get("kind")
            if kind is not None and kind not in ("numeric", "categorical"):
                raise _fail(path, f"features[{i}].kind", kind, "allowed: numeric, categorical")
            if f["name"] in names:
                raise _fail(path, f"features[{i}].name", f["name"], "names must be unique")
            names.append(f["name"])
            if kind:
                kinds[f["name"]] = kind
    return Schema(header=header, label=label, names=names, kinds=kinds)
