"""How a route declares itself: one decorator that checks the role, validates input with pydantic,
renders the output, and records everything the OpenAPI document needs.

    @bp.post("/auth/login")
    @endpoint("Log in", body=LoginIn, response=MeOut, auth=PUBLIC, errors=(401, 423))
    def login(body: LoginIn): ...

The OpenAPI document is built from these records and the app's URL map, so it cannot drift from
what the app serves.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError, field_validator
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from telehealth.errors import ServiceError, Unauthenticated, ValidationFailed
from telehealth.models.accounts.accounts import Role
from telehealth.services.platform import authz

PUBLIC = "public"          # no login needed
AUTHENTICATED = "any"      # any logged-in user; otherwise a tuple of roles


class MalformedJson(ServiceError):
    status = 400
    code = "malformed_json"


def _serialize_timestamp(value: datetime, info) -> str:
    zone = (info.context or {}).get("tz") or "UTC"
    return value.astimezone(ZoneInfo(zone)).isoformat()


# A moment in time: stored in UTC, shown as ISO 8601 in the viewer's own zone.
Timestamp = Annotated[datetime, PlainSerializer(_serialize_timestamp, return_type=str, when_used="json")]


class Schema(BaseModel):
    """Base of every request and response body: unknown fields are refused, not ignored, and text
    may not hold NUL characters (PostgreSQL cannot store them), not even inside a list or an object
    such as a screening's answers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if _holds_nul(value):
            raise ValueError("Text may not contain NUL characters")
        return value


def _whole_floats_as_ints(model: type[BaseModel], data):
    """JSON Schema's "integer" is any number with a zero fractional part, so an int field takes 3.0
    as 3 (strict parsing alone refuses it): such floats in the body's int fields (and lists of ints,
    nested bodies) become ints; 3.5, "3", true and floats past 2**53 are left for the schema to refuse."""
    if not isinstance(data, dict):
        return data
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in data:
            data[key] = _as_declared(field.annotation, data[key])
    return data


def _as_declared(annotation, value):
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is int:
        if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
            return int(value)
        return value
    if get_origin(annotation) in (Union, UnionType):
        choices = [a for a in get_args(annotation) if a is not type(None)]
        return _as_declared(choices[0], value) if len(choices) == 1 else value
    if get_origin(annotation) is list and get_args(annotation) and isinstance(value, list):
        return [_as_declared(get_args(annotation)[0], item) for item in value]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _whole_floats_as_ints(annotation, value)
    return value


def _holds_nul(value) -> bool:
    stack = [value]  # a loop, not recursion: nesting depth is the client's choice
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


class Empty(Schema):
    """A body with no fields (`{}`)."""


class MessageOut(Schema):
    message: str


@dataclass
class EndpointSpec:
    summary: str
    description: str | None
    tags: tuple[str, ...]
    auth: str | tuple[Role, ...]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    content_type: str = "application/json"
    alternatives: tuple[str, ...] = ()

    @property
    def roles(self) -> tuple[Role, ...] | None:
        return self.auth if isinstance(self.auth, tuple) else None


def endpoint(summary: str, *, tags: Iterable[str] = (), auth: str | Iterable[Role] = AUTHENTICATED,
             body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int = 200, errors: Iterable[int] = (),
             content_type: str = "application/json", alternatives: Iterable[str] = ()) -> Callable:
    """`content_type` is the media type of a success; `alternatives` the others it may take instead
    (a `format=...` query parameter choosing a PDF or HTML rendering, say). Errors are derived from
    the declaration (see `implied_errors`); `errors` adds those only the service knows (409, 429...)."""
    auth_value: str | tuple[Role, ...] = auth if isinstance(auth, str) else tuple(auth)

    def decorate(fn: Callable) -> Callable:
        spec = EndpointSpec(summary=summary, description=(fn.__doc__ or "").strip() or None,
                            tags=tuple(tags), auth=auth_value, body=body, query=query,
                            response=response, status=status, errors=tuple(errors),
                            content_type=content_type, alternatives=tuple(alternatives))

        @wraps(fn)
        def view(*args, **kwargs):
            if spec.auth != PUBLIC:
                # Loading the user checks the server-side session, which may end it for inactivity.
                if not current_user.is_authenticated and g.get("session_expired"):
                    raise Unauthenticated("You were logged off after a period of inactivity; log in again.",
                                          code="session_expired")
                authz.require_role(current_user, spec.roles)
            if spec.query is not None:
                kwargs["query"] = parse_query(spec.query)
            if spec.body is not None:
                kwargs["body"] = parse_body(spec.body)
            result = fn(*args, **kwargs)
            return render(result, spec.status)

        view.endpoint_spec = spec  # type: ignore[attr-defined]
        return view

    return decorate


# pydantic's own wording for the refusals people meet most, in plain words (the portal shows them
# beside the field; the API says the same).
def _length_words(err: dict) -> str:
    ctx = err.get("ctx") or {}
    unit = "characters" if isinstance(err.get("input"), str) else "items"
    if "max_length" in ctx and err["type"].endswith("too_long"):
        return f"Use at most {ctx['max_length']} {unit}."
    if ctx.get("min_length") == 1:
        return "This field is required."
    return f"Use at least {ctx.get('min_length')} {unit}."


_DATE_WORDS = "Enter a real date, such as 1988-04-12 (year, month, day)."


def _bound_words(err: dict) -> str:
    """"Input should be greater than or equal to 50" -> "Enter 50 or more." (a date: "on or after ...")."""
    ctx = err.get("ctx") or {}
    kind, limit = next(((k, v) for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")), (None, None))
    if limit is None:
        return err["msg"]
    text = limit.isoformat() if hasattr(limit, "isoformat") else str(limit)
    if re.match(r"\d{4}-\d{2}-\d{2}", text):  # a date or a moment: its day
        shown = text[:10]
        return {"ge": f"Choose a date on or after {shown}.", "gt": f"Choose a date after {shown}.",
                "le": f"Choose a date before {shown}.", "lt": f"Choose a date before {shown}."}[kind]
    return {"ge": f"Enter {limit} or more.", "gt": f"Enter more than {limit}.",
            "le": f"Enter {limit} or less.", "lt": f"Enter less than {limit}."}[kind]


def _number_words(err: dict) -> str:
    return "Enter a whole number, in digits (such as 120)." if err["type"].startswith("int") else \
        "Enter a number, in digits."


_WORDS = {
    "greater_than_equal": _bound_words, "greater_than": _bound_words, "less_than_equal": _bound_words,
    "less_than": _bound_words, "int_parsing": _number_words, "int_from_float": _number_words,
    "float_parsing": _number_words,
    "string_too_short": _length_words, "string_too_long": _length_words, "too_short": _length_words,
    "too_long": _length_words, "date_from_datetime_parsing": lambda err: _DATE_WORDS,
    "date_parsing": lambda err: _DATE_WORDS, "date_type": lambda err: _DATE_WORDS,
}


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        if err["type"] == "extra_forbidden":
            message = "Unknown field."
        elif err["type"] == "missing":
            message = "This field is required."
        elif err["type"] in _WORDS:
            message = _WORDS[err["type"]](err)
        else:
            message = err["msg"].removeprefix("Value error, ").removeprefix("value is not a valid email address: ")
            if not message.endswith("."):
                message += "."
        fields.setdefault(loc, []).append(message)
    return fields


def parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send a JSON body with Content-Type: application/json.")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if b"." in raw or b"e" in raw or b"E" in raw:  # a float may be there
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None  # pydantic says what is wrong with it
        if isinstance(parsed, dict):
            before = json.dumps(parsed)
            after = json.dumps(_whole_floats_as_ints(model, parsed))
            if after != before:
                raw = after.encode()
    try:
        return model.model_validate_json(raw or b"", strict=True)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedJson("The request body is not valid JSON.") from None
        raise ValidationFailed("Some fields are missing or invalid.", fields=field_errors(exc)) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed("Some query parameters are invalid.", fields=field_errors(exc)) from None


def viewer_zone() -> str:
    if getattr(current_user, "is_authenticated", False):
        return current_user.time_zone
    return "UTC"


def render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=204)
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json", context={"tz": viewer_zone()})
    else:
        payload = result
    response = jsonify(payload)
    response.status_code = status
    return response


# ----------------------------------------------------------------------------- OpenAPI

# A variable part of a rule: `<name>`, `<conv:name>` or `<conv(args):name>` (converter names may hold `_`).
_CONVERTER = re.compile(r"<(?:(?P<conv>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def converter_schema(converter) -> dict:
    """The JSON schema of the values a URL converter accepts: its own `openapi_schema()` when it
    has one (ours do), else what werkzeug's built-in converters take, else its regex."""
    own = getattr(converter, "openapi_schema", None)
    if own is not None:
        return own()
    if isinstance(converter, IntegerConverter):
        schema: dict[str, Any] = {"type": "integer"}
    elif isinstance(converter, FloatConverter):
        schema = {"type": "number"}
    elif isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    elif isinstance(converter, AnyConverter):
        return {"type": "string", "enum": sorted(re.findall(r"[^|()?:]+", converter.regex))}
    else:
        return {"type": "string", "pattern": f"^(?:{converter.regex})$"}
    if getattr(converter, "min", None) is not None:
        schema["minimum"] = converter.min
    if getattr(converter, "max", None) is not None:
        schema["maximum"] = converter.max
    return schema


def implied_errors(spec: EndpointSpec, rule) -> set[int]:
    """The error statuses an endpoint's declaration implies, on top of those it lists itself."""
    codes = set(spec.errors)
    if spec.auth != PUBLIC:
        codes.add(401)  # not logged in, or logged off for inactivity
        if spec.roles or rule.arguments:
            codes.add(403)  # another role, or a record that is not the user's
    if rule.arguments:
        codes.add(404)  # no such record (or an id out of range)
    if spec.body is not None:
        codes |= {400, 413, 415, 422}  # malformed JSON, too large, not JSON, invalid fields
    if spec.query is not None:
        codes.add(422)
    return codes


def _media_schema(media_type: str) -> dict:
    if _is_json(media_type):
        return {"type": "object"}
    if media_type.startswith("text/") or media_type.endswith("+xml"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
    }},
}
_ERROR_TEXT = {400: "Malformed request", 401: "Not logged in", 403: "Not allowed for this role or record",
               404: "Not found", 409: "Conflict with the current state", 413: "Body too large",
               415: "Body is not JSON", 422: "Invalid fields", 423: "Account locked", 429: "Rate limited",
               503: "Not ready"}


def route_specs(app: Flask):
    """Yield (openapi_path, method, rule, spec) for every route the app serves."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "page_spec", None) is not None:
            continue  # the portal's pages and assets (telehealth/pages.py) are not part of the API
        spec = getattr(view, "endpoint_spec", None)
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), rule, spec


def build_openapi(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    body_models: list[type[BaseModel]] = []
    response_models: list[type[BaseModel]] = []
    for _, _, _, spec in route_specs(app):
        if spec:
            body_models += [m for m in (spec.body, spec.query) if m is not None]
            response_models += [spec.response] if spec.response is not None else []
    pairs = [(m, "validation") for m in dict.fromkeys(body_models)]
    pairs += [(m, "serialization") for m in dict.fromkeys(response_models)]
    refs, defs = models_json_schema(pairs, ref_template="#/components/schemas/{model}") if pairs else ({}, {})
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA

    for path, method, rule, spec in route_specs(app):
        if spec is None:
            raise RuntimeError(f"route {rule.rule} has no @endpoint declaration")
        op: dict[str, Any] = {"operationId": f"{rule.endpoint}.{method}", "summary": spec.summary,
                              "tags": list(spec.tags) or [rule.endpoint.split(".")[0]]}
        if spec.description:
            op["description"] = spec.description
        params = []
        for match in _CONVERTER.finditer(rule.rule):
            name = match.group("name")
            params.append({"name": name, "in": "path", "required": True,
                           "schema": converter_schema(rule._converters[name])})
        if spec.query is not None:
            qschema = spec.query.model_json_schema(ref_template="#/components/schemas/{model}")
            required = set(qschema.get("required", []))
            for name, prop in qschema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        if params:
            op["parameters"] = params
        if spec.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": refs[(spec.body, "validation")]}}}
        responses: dict[str, Any] = {}
        if spec.status == 204:
            responses["204"] = {"description": "Done, no content"}
        else:
            schema = (refs[(spec.response, "serialization")] if spec.response is not None
                      else _media_schema(spec.content_type))
            content = {spec.content_type: {"schema": schema}}
            for media_type in spec.alternatives:
                content[media_type] = {"schema": _media_schema(media_type)}
            responses[str(spec.status)] = {"description": "Success", "content": content}
        codes = implied_errors(spec, rule)
        for code in sorted(codes):
            responses[str(code)] = {"description": _ERROR_TEXT.get(code, "Error"), "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        if spec.auth != PUBLIC:
            op["security"] = [{"sessionCookie": []}]
            if spec.roles:
                op["x-roles"] = [r.value for r in spec.roles]
        paths.setdefault(path, {})[method] = op

    return {
        "openapi": "3.1.0",
        "info": {"title": "telehealth API", "version": "1",
                 "description": "Backend of the at-home ketamine therapy program. Errors always have "
                                "the shape {error: {code, message, fields}}."},
        "servers": [{"url": current_app.config.get("PUBLIC_BASE_URL", "/")}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"sessionCookie": {"type": "apiKey", "in": "cookie",
                                                  "name": current_app.config["SESSION_COOKIE_NAME"]}},
        },
    }
