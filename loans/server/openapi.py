"""The OpenAPI document as the API really answers: fields sent as text with their pattern, the error answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin

from loans.core.http import ErrorBody
from loans.core.schemas import SentAsText

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class SentAsTextPlugin(OpenAPISchemaPlugin):
    """A field marked SentAsText (amounts, rates, region codes) is a string of its pattern, also inside an
    optional (Litestar reads no pydantic constraint there)."""

    @staticmethod
    def is_plugin_supported_type(value: object) -> bool:
        return False

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.get_from_metadata(SentAsText) is not None

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        text = field_definition.get_from_metadata(SentAsText)
        return Schema(type=OpenAPIType.STRING, pattern=text.pattern, examples=[text.example])


ERROR_ANSWERS = {
    400: "Malformed request (JSON that cannot be read, a form without its file) / 请求格式错误",
    401: "No valid token / 未登录或令牌无效",
    403: "The caller's role may not do this / 无权执行此操作",
    404: "Not found, or outside the caller's scope / 未找到或不在权限范围内",
    409: "Not allowed in the current state, or a duplicate / 与当前状态冲突或重复",
    413: "Request body too large / 请求内容过大",
    422: "Bad input: errors name each field / 输入无效，errors 列出各字段",
}


def document_errors(app: Litestar) -> None:
    """Every operation documents the error answers it can give, with the one error body (loans/core/http.py):
    Litestar alone lists a 400 of its own shape, which this API never answers."""
    responses = {
        status: ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)
        for status, description in ERROR_ANSWERS.items()
    }
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            handler.responses = {**responses, **(handler.responses or {})}
