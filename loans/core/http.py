"""What the controllers share of HTTP: the one error body, the OpenAPI declarations of throttled and file
answers, the file download and the file upload. `loans/server` wires the app from them; the domain areas import
them from here, not from the wiring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from litestar import Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, Schema
from litestar.params import Body
from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str
    message_zh: str


class ErrorBody(BaseModel):
    """Every error answer: its status, what went wrong in English and Chinese, and for bad input the fields.
    A 409 may add what it is about (``state``, ``existing_id``)."""

    status_code: int
    detail: str
    detail_zh: str
    errors: list[FieldError] | None = None


THROTTLED = {
    429: ResponseSpec(
        data_container=ErrorBody,
        description="Too many failed sign-ins: wait Retry-After seconds / 登录失败次数过多，请稍后再试",
        generate_examples=False,
    )
}


def answering_files(*media_types: str) -> type[Operation]:
    """The OpenAPI operation of a handler whose 200 may also be a file of these media types (a report, a download):
    Litestar documents one media type per answer."""

    @dataclass
    class FileAnswer(Operation):
        def __post_init__(self) -> None:
            answer = self.responses["200"]
            files = {
                kind: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
                for kind in media_types
            }
            answer.content = {**(answer.content or {}), **files}

    return FileAnswer


def attachment(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    """A file to download as ``filename``: a Chinese name percent-encoded as RFC 6266's ``filename*``."""
    named = f'filename="{filename}"' if filename.isascii() else f"filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": f"attachment; {named}"})


@dataclass
class FileForm:
    """A file upload: a multipart form with exactly one file in its ``data`` part."""

    data: UploadFile


UploadedFile = Annotated[
    FileForm,
    Body(
        media_type=RequestEncodingType.MULTI_PART, description='one CSV or XLSX file in the form part "data"'
    ),
]
