"""What a request is (service, region, operation, protocol) and how to answer it.

The local cloud answers in the protocol the client spoke, so botocore parses our
errors into ordinary ``ClientError``s with the right code and message: JSON for the
JSON protocols, CBOR for ``smithy-rpc-v2-cbor`` (CloudWatch), XML for query and S3.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from localcloud.clock import from_datetime

DEFAULT_REGION = "us-east-1"
SERVICE_NAMES = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}
"""Signing names → the service prefix people know (and IAM uses)."""


class ApiError(Exception):
    """An AWS-style error: ``code`` (e.g. ``ValidationException``), message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def not_implemented(service: str, operation: str, detail: str = "") -> ApiError:
    text = f"the local cloud does not implement {service}:{operation}"
    return ApiError("NotImplemented", text + (f" ({detail})" if detail else ""), 501)


@dataclass
class Call:
    """One request, as far as the local cloud needs to know it."""

    service: str
    region: str
    access_key: str
    operation: str | None
    protocol: str
    """``json``, ``cbor``, ``query``, ``rest-xml`` or ``rest-json``."""

    @classmethod
    def from_environ(cls, environ: dict[str, Any], body: bytes | None) -> Call:
        service, region, access_key = "", DEFAULT_REGION, "testing"
        auth = environ.get("HTTP_AUTHORIZATION", "")
        match = re.search(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/", auth)
        if match:
            access_key, region, service = match.group(1), match.group(2), match.group(3)
            service = SERVICE_NAMES.get(service, service)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        content_type = environ.get("CONTENT_TYPE", "")
        path = environ.get("PATH_INFO", "")
        operation: str | None = None
        if environ.get("HTTP_SMITHY_PROTOCOL", "") == "rpc-v2-cbor":
            protocol = "cbor"
            operation = path.rstrip("/").rsplit("/", 1)[-1] or None
        elif target:
            protocol = "json"
            operation = target.rsplit(".", 1)[-1]
        elif content_type.startswith("application/x-www-form-urlencoded"):
            protocol = "query"
            if body:
                action = parse_qs(body.decode("utf-8", "replace")).get("Action")
                operation = action[0] if action else None
        elif service == "s3" or not service:
            protocol = "rest-xml"
        else:
            protocol = "rest-json"
        return cls(service, region, access_key, operation, protocol)


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    elif n < 65536:
        head = bytes([0x79]) + struct.pack(">H", n)
    else:
        head = bytes([0x7A]) + struct.pack(">I", n)
    return head + data


def _cbor_map(items: dict[str, str]) -> bytes:
    out = bytes([0xA0 | len(items)])
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def error_response(call: Call | None, error: ApiError) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` for ``error`` in the protocol of ``call``."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", error.code)]
    protocol = call.protocol if call else "rest-json"
    if protocol == "cbor":
        body = _cbor_map({"__type": error.code, "message": error.message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{_xml(error.code)}</Code><Message>{_xml(error.message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{_xml(error.code)}</Code>"
            f"<Message>{_xml(error.message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    return error.status, headers, body


def json_response(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(result, default=_json_default).encode()
    headers = [
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("Content-Type", "application/x-amz-json-1.1"),
    ]
    return 200, headers, body


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return from_datetime(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def operation_from_message(message: str) -> str | None:
    """``The update_endpoint action has not been implemented`` → ``UpdateEndpoint``."""
    match = re.search(r"The (\w+) action has not been implemented", message)
    if not match:
        return None
    return "".join(part.title() for part in match.group(1).split("_"))
