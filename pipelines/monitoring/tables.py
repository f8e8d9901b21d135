"""Reading data in bounded chunks: CSV files and SageMaker data-capture JSON Lines, from local
paths or S3, as columns of strings (pyarrow) with the line each row came from.

Every problem a row has (wrong number of columns, an undecodable record) is counted in
``Problems`` with its file and line, and the row is skipped; reading goes on.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.audit import split_s3_uri

BLOCK_BYTES = 1 << 20
"""Bytes parsed at a time: memory per chunk, independent of the file's size."""

NULL_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
MAX_MESSAGES = 20
"""Messages kept per problem kind (the counts are always complete)."""

PREDICTION = "prediction"


class SourceError(ValueError):
    """A source that cannot be read at all (missing, empty, not CSV or capture JSON Lines)."""


@dataclass
class Problems:
    """Data problems by kind (e.g. ``columns``, ``type:<feature>``): a count and the first
    messages, each naming file and line."""

    counts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, message: str, count: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count
        kept = self.messages.setdefault(kind, [])
        if len(kept) < MAX_MESSAGES:
            kept.append(message)

    def first(self, kind: str) -> str | None:
        kept = self.messages.get(kind)
        return kept[0] if kept else None


@dataclass
class Chunk:
    """Rows of one source: ``columns`` by feature name (pyarrow string arrays, nulls for
    missing values) and ``lines[i]``, the 1-based line of row ``i`` in ``source``."""

    source: str
    columns: dict[str, pa.Array]
    lines: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.lines)

    def where(self, row: int) -> str:
        return f"{self.source}:{int(self.lines[row])}"


# ------------------------------------------------------------------------------ sources


@dataclass(frozen=True)
class Source:
    """One file: where it is (for messages) and how to open it."""

    name: str
    open: Callable[[], IO[bytes]]


def local_sources(path: Path) -> list[Source]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise SourceError(f"{str(path)!r}: the directory has no files")
    elif path.is_file():
        files = [path]
    else:
        raise SourceError(f"{str(path)!r}: no such file or directory")
    return [Source(str(p), lambda p=p: open(p, "rb")) for p in files]  # type: ignore[misc]


def s3_sources(s3: Any, uri: str, keys: Iterable[str] | None = None) -> list[Source]:
    """The object at ``uri``, or every object under it as a prefix (sorted), or ``keys``."""
    bucket, key = split_s3_uri(uri)
    if keys is None:
        listed: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            listed += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        if key in listed:
            listed = [key]
        if not listed:
            raise SourceError(f"{uri!r}: no objects there")
        keys = sorted(listed)

    def opener(k: str) -> Callable[[], IO[bytes]]:
        def open_object() -> IO[bytes]:
            body: IO[bytes] = s3.get_object(Bucket=bucket, Key=k)["Body"]
            return body

        return open_object

    return [Source(f"s3://{bucket}/{k}", opener(k)) for k in keys]


def is_capture(head: bytes) -> bool:
    """Capture JSON Lines (``{"captureData": …}`` records), judged by the first lines (one of
    them may be broken)."""
    lines = head.lstrip().split(b"\n")[:20]
    return any(line.lstrip().startswith(b"{") and b'"captureData"' in line for line in lines)


# ---------------------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class CsvLayout:
    names: list[str]
    """Column names in file order."""
    header: bool


def sniff_header(head: bytes, known: list[str] | None = None) -> bool:
    """Whether a CSV's first line is a header: it names a ``known`` feature; else no field of
    it is a number while a later row has one in the same column; else the standard
    library's heuristic."""
    lines = head.decode("utf-8", "replace").splitlines()[:50]
    if not lines:
        return False
    rows = list(csv.reader(lines[:-1] if len(lines) > 1 else lines))
    first = [f.strip() for f in rows[0]] if rows else []
    if known and any(f in known for f in first):
        return True
    if any(_is_number(f) for f in first):
        return False
    if any(len(row) == len(first) and any(_is_number(v) for v in row) for row in rows[1:]):
        return True
    # all text: a header's names do not recur below it, while categories do
    columns = list(zip(*[r for r in rows[1:] if len(r) == len(first)], strict=False))
    if columns and all(
        first[i] not in values and len(set(values)) < len(values)
        for i, values in enumerate(columns)
    ):
        return True
    try:
        return csv.Sniffer().has_header("\n".join(lines))
    except csv.Error:
        return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


LABEL = "__label__"
"""The name a label column gets (left out of the features)."""


def csv_layout(
    head: bytes, header: bool | None, names: list[str] | None, label: int | None = None
) -> CsvLayout:
    """Column names: the header's, else ``names``, else ``_c<i>`` numbering the features only;
    the column at index ``label`` is named ``LABEL`` either way."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    width = len(next(csv.reader([first]), []))
    has_header = sniff_header(head, names) if header is None else header
    if has_header:
        found = [c.strip() for c in next(csv.reader([first]), [])]
        if label is not None and label < len(found):
            found[label] = LABEL
        return CsvLayout(found, True)
    features = width - (1 if label is not None and label < width else 0)
    columns = list(names) if names else [f"_c{i}" for i in range(features)]
    if label is not None:
        columns.insert(min(label, len(columns)), LABEL)
    return CsvLayout(columns, False)


def read_csv(
    stream: IO[bytes],
    head: bytes,
    name: str,
    problems: Problems,
    *,
    header: bool | None,
    names: list[str] | None,
    label: int | None = None,
) -> Iterator[Chunk]:
    """Chunks of a CSV file; ``names`` name the columns of a file without a header."""
    layout = csv_layout(head, header, names, label)
    yield from _csv_chunks(stream, name, layout, problems, first_line=1)


class _Replayed(io.RawIOBase):
    """``head`` (already read from ``rest``) followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_chunks(
    stream: IO[bytes], name: str, layout: CsvLayout, problems: Problems, first_line: int
) -> Iterator[Chunk]:
    """Parsed on one thread: pyarrow then knows each skipped row's line (and with blocks of
    ``BLOCK_BYTES`` one thread is as fast as two here)."""
    skipped: list[int] = []

    def invalid(row: Any) -> str:
        line = row.number + first_line - 1 if row.number is not None else None
        where = f"{name}:{line}" if line is not None else name
        problems.add(
            "columns", f"{where}: {row.actual_columns} columns, expected {row.expected_columns}"
        )
        if line is not None:
            skipped.append(line)
        return "skip"

    reader = pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(
            block_size=BLOCK_BYTES,
            column_names=layout.names,
            skip_rows=1 if layout.header else 0,
            use_threads=False,
        ),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=invalid),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(layout.names, pa.string()),
            null_values=NULL_VALUES,
            strings_can_be_null=True,
        ),
    )
    line = first_line + (1 if layout.header else 0)
    for batch in reader:
        rows = batch.num_rows
        ahead = [s for s in skipped if s >= line]
        candidates = np.arange(line, line + rows + len(ahead), dtype=np.int64)
        lines = candidates[~np.isin(candidates, ahead)][:rows]
        if rows:
            line = int(lines[-1]) + 1
        skipped[:] = [s for s in skipped if s >= line]
        yield Chunk(name, {n: batch.column(i) for i, n in enumerate(layout.names)}, lines)


# ----------------------------------------------------------------------- data capture

_PAYLOAD = pa.struct(
    [("observedContentType", pa.string()), ("data", pa.string()), ("encoding", pa.string())]
)
_CAPTURE = pa.schema(
    [("captureData", pa.struct([("endpointInput", _PAYLOAD), ("endpointOutput", _PAYLOAD)]))]
)


@dataclass
class Bodies:
    """One payload (input or output) of a block's records: per record its line, content type
    and body as text (base64 decoded)."""

    lines: np.ndarray
    types: list[str]
    bodies: list[str]
    json: np.ndarray
    """Per record: the body is JSON (by its content type or its first character)."""

    def select(self, keep: np.ndarray) -> Bodies:
        index = np.flatnonzero(keep)
        return Bodies(
            self.lines[index],
            [self.types[i] for i in index],
            [self.bodies[i] for i in index],
            self.json[index],
        )

    @classmethod
    def of(cls, lines: list[int], types: list[str], bodies: list[str]) -> Bodies:
        is_json = [_is_json(t, b) for t, b in zip(types, bodies, strict=True)]
        return cls(np.array(lines, dtype=np.int64), types, bodies, np.array(is_json, dtype=bool))


@dataclass
class Decoded:
    inputs: Bodies
    outputs: Bodies


def _empty() -> Bodies:
    return Bodies.of([], [], [])


def _text(payload: dict[str, Any] | None) -> tuple[str, str] | None:
    if not payload or payload.get("data") is None:
        return None
    data = str(payload["data"])
    if str(payload.get("encoding") or "").upper() == "BASE64":
        data = base64.b64decode(data).decode("utf-8", "replace")
    return str(payload.get("observedContentType") or ""), data


def decode_block(block: bytes, name: str, first_line: int, problems: Problems) -> Decoded:
    """Capture records of one block of whole lines: pyarrow's JSON reader, the fields taken as
    columns; line by line with the standard library where that fails, to name the bad lines."""
    try:
        table = pa_json.read_json(
            io.BytesIO(block),
            parse_options=pa_json.ParseOptions(
                explicit_schema=_CAPTURE, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _decode_one_by_one(block, name, first_line, problems)
    capture = table.column("captureData").combine_chunks()
    lines = _record_lines(block, first_line, len(capture))
    missing = np.asarray(capture.is_null())
    for line in lines[missing][:MAX_MESSAGES]:
        problems.add("records", f"{name}:{int(line)}: no captureData in the record")
    if missing.any() and missing.sum() > MAX_MESSAGES:
        problems.counts["records"] += int(missing.sum()) - MAX_MESSAGES
    return Decoded(
        _payload_columns(capture, "endpointInput", lines),
        _payload_columns(capture, "endpointOutput", lines),
    )


def _record_lines(block: bytes, first_line: int, records: int) -> np.ndarray:
    """The line of each record (pyarrow skips blank lines; then count them out)."""
    if block.count(b"\n") == records or block.rstrip(b"\n").count(b"\n") + 1 == records:
        return np.arange(first_line, first_line + records, dtype=np.int64)
    kept = [i for i, raw in enumerate(block.split(b"\n")) if raw.strip()]
    return np.array(kept[:records], dtype=np.int64) + first_line


def _payload_columns(capture: pa.StructArray, field: str, lines: np.ndarray) -> Bodies:
    payload = pc.struct_field(capture, field)
    data = pc.struct_field(payload, "data")
    present = np.asarray(data.is_valid())
    if not present.any():
        return _empty()
    index = np.flatnonzero(present)
    taken = pa.array(index)
    texts = data.take(taken)
    content_types = pc.fill_null(pc.struct_field(payload, "observedContentType").take(taken), "")
    encodings = pc.struct_field(payload, "encoding").take(taken)
    base64_rows = np.flatnonzero(
        np.asarray(pc.fill_null(pc.equal(pc.utf8_upper(encodings), "BASE64"), False))
    )
    bodies: list[str] = texts.to_pylist()
    for i in base64_rows:
        bodies[i] = base64.b64decode(bodies[i]).decode("utf-8", "replace")
    if len(base64_rows):
        texts = pa.array(bodies, pa.string())
    is_json = pc.or_(
        pc.match_substring(content_types, "json", ignore_case=True),
        pc.match_substring_regex(texts, r"^\s*[\[{]"),
    )
    return Bodies(lines[index], content_types.to_pylist(), bodies, np.asarray(is_json))


def _decode_one_by_one(block: bytes, name: str, first_line: int, problems: Problems) -> Decoded:
    found: dict[str, tuple[list[int], list[str], list[str]]] = {
        "in": ([], [], []),
        "out": ([], [], []),
    }
    for line, capture in _records_one_by_one(block, name, first_line, problems):
        if not isinstance(capture, dict):
            problems.add("records", f"{name}:{line}: no captureData in the record")
            continue
        try:
            request = _text(capture.get("endpointInput"))
            response = _text(capture.get("endpointOutput"))
        except (ValueError, TypeError) as exc:
            problems.add("records", f"{name}:{line}: undecodable capture data ({exc})")
            continue
        for key, payload in (("in", request), ("out", response)):
            if payload:
                found[key][0].append(line)
                found[key][1].append(payload[0])
                found[key][2].append(payload[1])

    def bodies(key: str) -> Bodies:
        return Bodies.of(*found[key])

    return Decoded(bodies("in"), bodies("out"))


def _records_one_by_one(
    block: bytes, name: str, first_line: int, problems: Problems
) -> Iterator[tuple[int, Any]]:
    for line, raw in enumerate(block.split(b"\n"), start=first_line):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            problems.add("records", f"{name}:{line}: not a JSON record ({exc.args[0]})")
            continue
        yield line, record.get("captureData") if isinstance(record, dict) else None


def read_capture(
    stream: IO[bytes], name: str, problems: Problems, *, inputs: list[str] | None
) -> Iterator[Chunk]:
    """Chunks of a capture file: the input features (named ``inputs``, else ``_c<i>``) and the
    model's outputs (``prediction``, or ``prediction_<i>`` for several per row)."""
    first_line = 1
    pending = b""
    while True:
        data = stream.read(BLOCK_BYTES)
        block = pending + data
        if not data:
            if block.strip():
                yield from _capture_chunks(block, name, first_line, problems, inputs)
            return
        cut = block.rfind(b"\n")
        if cut < 0:
            pending = block
            continue
        whole, pending = block[: cut + 1], block[cut + 1 :]
        yield from _capture_chunks(whole, name, first_line, problems, inputs)
        first_line += whole.count(b"\n")


def _capture_chunks(
    block: bytes, name: str, first_line: int, problems: Problems, inputs: list[str] | None
) -> Iterator[Chunk]:
    decoded = decode_block(block, name, first_line, problems)
    if decoded.inputs.bodies:
        yield from _input_chunk(decoded.inputs, name, problems, inputs)
    if decoded.outputs.bodies:
        chunk = _output_chunk(decoded.outputs, name, problems)
        if chunk is not None:
            yield chunk


def _input_chunk(
    found: Bodies, name: str, problems: Problems, names: list[str] | None
) -> Iterator[Chunk]:
    is_json = found.json
    if not is_json.all():
        yield from _csv_records(found.select(~is_json), name, problems, names)
    if is_json.any():
        yield from _json_records(found.select(is_json), name, problems, names)


def _is_json(content_type: str, body: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] in ("{", "[")


def _csv_records(
    found: Bodies, name: str, problems: Problems, names: list[str] | None
) -> Iterator[Chunk]:
    """CSV bodies (one or more rows each), parsed together; row lines map to record lines."""
    bodies = [body.strip("\n") for body in found.bodies]
    per_record = np.fromiter((b.count("\n") + 1 for b in bodies), np.int64, len(bodies))
    record_lines = np.repeat(found.lines, per_record)
    text = ("\n".join(bodies) + "\n").encode()
    width = len(next(csv.reader([bodies[0].split("\n", 1)[0]]), []))
    layout = CsvLayout(names or [f"_c{i}" for i in range(width)], False)
    sub = Problems()
    for chunk in _csv_chunks(io.BytesIO(text), name, layout, sub, first_line=1):
        # positions in the joined text → the capture records they came from
        chunk.lines = record_lines[np.clip(chunk.lines - 1, 0, len(record_lines) - 1)]
        yield chunk
    for kind, count in sub.counts.items():
        for i, message in enumerate(sub.messages.get(kind, [])):
            problems.add(kind, _record_message(message, name, record_lines), 1 if i else count)


def _record_message(message: str, name: str, record_lines: np.ndarray) -> str:
    """``<name>:<joined row>: …`` → ``<name>:<capture line>: …``."""
    head, _, rest = message.partition(": ")
    row = head.rsplit(":", 1)[-1]
    if row.isdigit() and 0 < int(row) <= len(record_lines):
        return f"{name}:{int(record_lines[int(row) - 1])}: {rest}"
    return message


def _json_records(
    found: Bodies, name: str, problems: Problems, names: list[str] | None
) -> Iterator[Chunk]:
    """JSON bodies: ``[[…], …]``, ``[…]``, ``{"instances": …}`` or ``{"<feature>": value}``."""
    table: list[list[Any]] = []
    lines: list[int] = []
    width = len(names) if names else None
    for line, body in zip(found.lines.tolist(), found.bodies, strict=True):
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            problems.add("records", f"{name}:{line}: the input is not JSON ({exc.args[0]})")
            continue
        if isinstance(parsed, dict) and "instances" in parsed:
            parsed = parsed["instances"]
        for row in _json_rows(parsed, names):
            if width is None:
                width = len(row)
            if len(row) != width:
                problems.add("columns", f"{name}:{line}: {len(row)} columns, expected {width}")
                continue
            table.append(row)
            lines.append(line)
    if not table or width is None:
        return
    columns = names or [f"_c{i}" for i in range(width)]
    yield Chunk(
        name,
        {
            n: pa.array([None if r[i] is None else str(r[i]) for r in table], pa.string())
            for i, n in enumerate(columns)
        },
        np.array(lines, dtype=np.int64),
    )


def _json_rows(parsed: Any, names: list[str] | None) -> list[list[Any]]:
    if isinstance(parsed, dict):
        return [[parsed.get(n) for n in names]] if names else [list(parsed.values())]
    if isinstance(parsed, list) and parsed and all(isinstance(r, list) for r in parsed):
        return [list(r) for r in parsed]
    if isinstance(parsed, list) and parsed and all(isinstance(r, dict) for r in parsed):
        return [row for r in parsed for row in _json_rows(r, names)]
    if isinstance(parsed, list):
        return [parsed]
    return [[parsed]]


def _output_chunk(found: Bodies, name: str, problems: Problems) -> Chunk | None:
    """Model outputs: JSON (a number, a list, or an object with one list such as
    ``{"probabilities": […]}``) or CSV (a row per line), one prediction row per input row."""
    fast = _json_predictions(found, name)
    if fast is not None:
        return fast
    values: list[list[float]] = []
    lines: list[int] = []
    for line, kind, body in zip(found.lines.tolist(), found.types, found.bodies, strict=True):
        try:
            rows = _prediction_rows(kind, body)
        except ValueError as exc:
            problems.add("outputs", f"{name}:{line}: cannot read the model's output ({exc})")
            continue
        values += rows
        lines += [line] * len(rows)
    if not values:
        return None
    width = max(len(v) for v in values)
    columns = [PREDICTION] if width == 1 else [f"{PREDICTION}_{i}" for i in range(width)]
    return Chunk(
        name,
        {
            c: pa.array([str(v[i]) if i < len(v) else None for v in values], pa.string())
            for i, c in enumerate(columns)
        },
        np.array(lines, dtype=np.int64),
    )


def _json_predictions(found: Bodies, name: str) -> Chunk | None:
    """One prediction per row from JSON bodies in one pass of pyarrow's JSON reader (each body
    wrapped as ``{"v": body}``): a number per record, a list of numbers, or an object with one
    such list. ``None`` when the bodies are anything else (read one by one then)."""
    if not found.json.all() or any("\n" in b for b in found.bodies):
        return None
    wrapped = "\n".join(['{"v":' + b + "}" for b in found.bodies]).encode()
    try:
        values = pa_json.read_json(io.BytesIO(wrapped)).column("v").combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError):
        return None
    if pa.types.is_struct(values.type):
        lists = [f.name for f in values.type if pa.types.is_list(f.type)]
        if len(lists) != 1 or values.type.num_fields != 1:
            return None
        values = pc.struct_field(values, lists[0])
    lines = found.lines
    if pa.types.is_list(values.type):
        if values.null_count:
            return None
        lines = np.repeat(lines, np.asarray(pc.list_value_length(values)))
        values = pc.list_flatten(values)
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        return None
    return Chunk(name, {PREDICTION: pc.cast(values, pa.float64())}, lines)


def _prediction_rows(content_type: str, body: str) -> list[list[float]]:
    if _is_json(content_type, body):
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            lists = [v for v in parsed.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise ValueError("a JSON object needs exactly one list of predictions")
            parsed = lists[0]
        if not isinstance(parsed, list):
            parsed = [parsed]
        return [[float(x) for x in (p if isinstance(p, list) else [p])] for p in parsed]
    return [[float(x) for x in line.split(",")] for line in body.splitlines() if line.strip()]


# ------------------------------------------------------------------------------ dispatch


def read(
    sources: list[Source],
    problems: Problems,
    *,
    header: bool | None = None,
    names: list[str] | None = None,
    label: int | None = None,
    on_source: Callable[[int, Source], None] | None = None,
) -> Iterator[Chunk]:
    """Chunks of every source in turn (CSV or capture JSON Lines, judged per file). A source
    that cannot be read is a problem (``sources``), not the end of the run."""
    for i, source in enumerate(sources):
        if on_source is not None:
            on_source(i, source)
        try:
            with source.open() as raw:
                head = raw.read(64 << 10)
                if not head.strip():
                    problems.add("sources", f"{source.name}: the file is empty")
                    continue
                stream = io.BufferedReader(_Replayed(head, raw), BLOCK_BYTES)
                if is_capture(head):
                    yield from read_capture(stream, source.name, problems, inputs=names)
                else:
                    yield from read_csv(
                        stream,
                        head,
                        source.name,
                        problems,
                        header=header,
                        names=names,
                        label=label,
                    )
        except (SourceError, OSError, pa.ArrowInvalid, BotoCoreError, ClientError) as exc:
            problems.add("sources", f"{source.name}: cannot read it ({exc})")
