"""A file upload: a multipart form with exactly one file in its ``data`` part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body


@dataclass
class FileForm:
    data: UploadFile


UploadedFile = Annotated[
    FileForm,
    Body(
        media_type=RequestEncodingType.MULTI_PART, description='one CSV or XLSX file in the form part "data"'
    ),
]
