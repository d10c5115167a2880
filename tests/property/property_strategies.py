"""Shared Hypothesis settings and strategies for the property tests."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Derandomized so that a run is repeatable and CI cannot flake; no example database, so
# nothing is written to the working tree. Big generated bodies are on purpose, so the size
# and speed health checks are off. Applied per test, so other Hypothesis users (schemathesis)
# keep their own defaults.
PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)

HUGE = "x" * 1_000_000
"""A 1 MB string; sampled, not generated, so it costs nothing to draw."""

BIG_INT_TEXT = "7" * 5000
"""More digits than ``int()`` converts by default (4300)."""


T = TypeVar("T")


def pick(values: list[T]) -> st.SearchStrategy[T]:
    """Sample from ``values`` without putting them into the strategy's repr (some are 1 MB).

    The repr of a mapped strategy shows the function; a bound ``values.__getitem__`` would show
    every value in full, a plain function only its name.
    """

    def value_at(index: int) -> T:
        return values[index]

    return st.sampled_from(range(len(values))).map(value_at)


huge_strings = pick([HUGE, "é" * 300_000, BIG_INT_TEXT, "²", "٣" * 10, "\x00"])
text = st.text(max_size=30) | huge_strings
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | text
)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

STATUSES = [
    "STATUS_UNKNOWN",
    "STATUS_SCHEDULED",
    "STATUS_RUNNING",
    "STATUS_SUCCESSFUL",
    "STATUS_FAILED",
    "STATUS_CANCELLED",
]


def valid_task(task_id: int = 7) -> dict[str, Any]:
    """A Task Processing task as Nextcloud 31 sends it."""
    return {
        "id": task_id,
        "lastUpdated": 1_700_000_000,
        "type": "core:text2text",
        "status": "STATUS_SUCCESSFUL",
        "userId": "alice",
        "appId": "prefect",
        "input": {"input": "Hello"},
        "output": {"output": "Hi"},
        "customId": None,
        "completionExpectedAt": None,
        "progress": 1.0,
        "scheduledAt": 1_700_000_000,
        "startedAt": 1_700_000_001,
        "endedAt": 1_700_000_002,
        "allowCleanup": True,
        "includeWatermark": True,
        "userFacingErrorMessage": None,
    }


def valid_legacy_task(task_id: int = 7) -> dict[str, Any]:
    """A TextProcessing task as Nextcloud 28 sends it."""
    return {
        "id": task_id,
        "type": "OCP\\TextProcessing\\FreePromptTaskType",
        "status": 3,
        "userId": "alice",
        "appId": "prefect",
        "input": "Hello",
        "output": "Hi",
        "identifier": "",
        "completionExpectedAt": 1_700_000_000,
    }


def valid_task_type() -> dict[str, Any]:
    """A task type as ``GET /tasktypes`` describes it."""
    return {
        "name": "Free text to text prompt",
        "description": "Runs an arbitrary prompt",
        "inputShape": {"input": {"name": "Prompt", "description": "", "type": "Text"}},
        "inputShapeEnumValues": [],
        "inputShapeDefaults": [],
        "optionalInputShape": [],
        "optionalInputShapeEnumValues": [],
        "optionalInputShapeDefaults": [],
        "outputShape": {"output": {"name": "Output", "description": "", "type": "Text"}},
        "outputShapeEnumValues": [],
        "optionalOutputShape": [],
        "optionalOutputShapeEnumValues": [],
        "isInternal": False,
    }


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any] | Any:
    """``base`` with keys dropped, values replaced by anything, or replaced as a whole."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values | st.just([]))
    result = dict(base)
    keys = sorted(result)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        if draw(st.booleans()):
            del result[key]
        else:
            result[key] = draw(json_values | st.just([]) | st.just({}) | huge_strings)
    return result


def envelope(data: Any, meta: Any = None, *, status: int = 200) -> Any:
    """An OCS envelope around ``data``."""
    if meta is None:
        meta = {"status": "ok", "statuscode": status, "message": "OK"}
    return {"ocs": {"meta": meta, "data": data}}


def dumps(value: Any) -> bytes:
    """Serialise as PHP or a sloppy server might: NaN and Infinity included."""
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def ocs_data(draw: st.DrawFn) -> Any:
    """The ``data`` of an envelope: plausible shapes for every endpoint, mutated."""
    task = mutated(valid_task())
    legacy = mutated(valid_legacy_task())
    types = st.dictionaries(
        st.sampled_from(["core:text2text", "x", ""]), mutated(valid_task_type())
    )
    legacy_types = st.lists(
        mutated(
            {"id": "OCP\\TextProcessing\\FreePromptTaskType", "name": "Free", "description": ""}
        ),
        max_size=3,
    )
    return draw(
        st.fixed_dictionaries({"task": task | legacy})
        | st.fixed_dictionaries({"tasks": st.lists(task | legacy, max_size=3) | json_values})
        | st.fixed_dictionaries({"types": types | legacy_types | json_values | st.just([])})
        | st.fixed_dictionaries({"message": text})
        | json_values
        | st.just([])
    )


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 "
    b"Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)
OCS_XML = (
    b'<?xml version="1.0"?>\n<ocs><meta><status>failure</status><statuscode>997</statuscode>'
    b"<message>Unauthorised</message></meta><data/></ocs>"
)
MULTISTATUS = (
    b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
    b"<d:response><d:href>/remote.php/dav/files/alice/a.txt</d:href><d:propstat><d:prop>"
    b"<oc:fileid>42</oc:fileid><d:resourcetype/><d:getcontentlength>3</d:getcontentlength>"
    b'<d:getetag>"abc"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status>'
    b"</d:propstat></d:response></d:multistatus>"
)
FIXED_BODIES = [
    b"",
    HTML_PAGE,
    OCS_XML,
    MULTISTATUS,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"<a>" * 5_000 + b"</a>" * 5_000,
    b'<?xml version="1.0"?><ocs><meta><statuscode>' + BIG_INT_TEXT.encode() + b"</statuscode>"
    b"</meta></ocs>",
    b'<?xml version="1.0"?><ocs><meta><statuscode>\xc2\xb2</statuscode></meta></ocs>',
    b'<?xml version="1.0" encoding="nonsense"?><a/>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;&undefined;</a>',
    b"\xff\xfe{\x00}\x00",
    b"\xef\xbb\xbf{}",
    b'{"version": "' + BIG_INT_TEXT.encode() + b'"}',
    dumps(envelope({"task": valid_task()})),
]


@st.composite
def xml_bodies(draw: st.DrawFn) -> bytes:
    """Small XML documents with arbitrary tags and text, sometimes in the DAV namespace."""
    tags = st.sampled_from(
        ["d:multistatus", "d:response", "d:propstat", "d:prop", "d:status", "oc:fileid",
         "d:getcontentlength", "d:resourcetype", "d:collection", "ocs", "meta", "statuscode",
         "message", "s:message", "x"]
    )  # fmt: skip
    content = st.text(
        st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="<&"), max_size=20
    ) | pick(["HTTP/1.1 200 OK", "42", BIG_INT_TEXT, "٣", "-1", " 12 "])

    def element(depth: int) -> str:
        tag = draw(tags)
        if depth > 3 or draw(st.booleans()):
            inner = draw(content)
        else:
            inner = "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{tag}>{inner}</{tag}>"

    root = element(0).replace(
        ">",
        ' xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:s="http://sabredav.org/ns">',
        1,
    )
    return f'<?xml version="1.0"?>{root}'.encode()


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Any body a server, a proxy or a broken connection might produce."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return draw(pick(FIXED_BODIES))
    if kind == 2:
        return dumps(draw(json_values))
    if kind == 3:
        meta = draw(
            st.none()
            | st.fixed_dictionaries(
                {"status": text, "statuscode": json_values, "message": json_values}
            )
            | json_values
        )
        ocs = draw(st.sampled_from(["envelope", "ocs-not-dict", "no-ocs"]))
        data = draw(ocs_data())
        if ocs == "envelope":
            return dumps(envelope(data, meta))
        if ocs == "ocs-not-dict":
            return dumps({"ocs": draw(json_values)})
        return dumps({"meta": meta, "data": data})
    if kind == 4:
        body = dumps(envelope(draw(ocs_data())))
        return body[: draw(st.integers(0, max(len(body) - 1, 0)))]
    if kind == 5:
        return draw(xml_bodies())
    return dumps(envelope(draw(ocs_data())))


header_values = st.binary(max_size=40).map(
    lambda value: value.replace(b"\r", b"").replace(b"\n", b"")
) | pick(
    [b"application/json", b"text/html; charset=utf-8", b"Tue, 15 Nov 1994 08:12:31 GMT",
     b"Fri, 31 Dec 9999 23:59:59 +1400", b"0", b"1", b'attachment; filename="a.png"',
     b"00000042ocabcdef", BIG_INT_TEXT.encode() + b"oc1"]
)  # fmt: skip
header_names = st.sampled_from(
    ["content-type", "date", "location", "x-nextcloud-maintenance-mode", "content-disposition",
     "oc-fileid"]
)  # fmt: skip


@st.composite
def responses(draw: st.DrawFn, status: st.SearchStrategy[int] | None = None) -> httpx.Response:
    """An ``httpx.Response`` with any status, any body and odd headers."""
    if status is None:
        status = st.integers(100, 599) | st.sampled_from(
            [200, 201, 207, 400, 401, 404, 405, 412, 429, 500, 503]
        )
    code = draw(status)
    headers = draw(st.dictionaries(header_names, header_values, max_size=4))
    return httpx.Response(
        code,
        content=draw(bodies()),
        headers=[(name.encode(), value) for name, value in headers.items()],
    )
