"""OCS transport details: formats, envelopes, authentication, CSRF, routing, injected faults."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import TP, client_for, ocs_data, schedule, schedule_ok

from prefect_nextcloud.sandbox import NextcloudSandbox

XML_OK_PREFIX = (
    '<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>ok</status>\n'
    "  <statuscode>200</statuscode>\n  <message>OK</message>\n </meta>\n <data>\n"
)


def test_json_by_format_parameter(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        params={"format": "json"},
        auth=(sb.user_id, sb.app_password),
        headers={"OCS-APIRequest": "true"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["ocs"]["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}


def test_json_by_accept_header(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/tasktypes")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "core:text2text" in ocs_data(response)["types"]


@pytest.mark.parametrize(
    "accept", ["application/json; charset=utf-8", "*/*", "text/html", "application/xml"]
)
def test_xml_unless_json_is_asked_for_exactly(alice: httpx.Client, accept: str) -> None:
    response = alice.get(f"{TP}/tasktypes", headers={"Accept": accept})
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.text.startswith(XML_OK_PREFIX)
    assert "   <core:text2text>\n    <name>Free text to text prompt</name>\n" in response.text


def test_first_matching_accept_entry_wins(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/tasktypes", headers={"Accept": "text/html, APPLICATION/JSON"})
    assert response.headers["content-type"].startswith("application/json")


def test_xml_error_envelope_is_exact(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/task/999999", headers={"Accept": "application/xml"})
    assert response.status_code == 404
    assert response.text == (
        '<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>failure</status>\n'
        "  <statuscode>404</statuscode>\n  <message></message>\n </meta>\n <data>\n"
        "  <message>Task not found</message>\n </data>\n</ocs>\n"
    )


def test_json_error_envelope_is_exact(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/task/999999")
    assert response.content == (
        b'{"ocs":{"meta":{"status":"failure","statuscode":404,"message":""},'
        b'"data":{"message":"Task not found"}}}'
    )


def test_json_is_encoded_like_php(alice: httpx.Client) -> None:
    response = schedule(alice, "core:text2text", {"input": "a </b> é"})
    assert b'"input":"a \\u003C\\/b\\u003E \\u00e9"' in response.content
    assert ocs_data(response)["task"]["input"]["input"] == "a </b> é"


def test_xml_escapes_text_and_renders_php_scalars(alice: httpx.Client) -> None:
    task = schedule_ok(alice, "core:text2text", {"input": 'x < "y"'})
    response = alice.get(f"{TP}/task/{task['id']}", headers={"Accept": "application/xml"})
    assert "    <input>x &lt; &quot;y&quot;</input>\n" in response.text
    assert "   <allowCleanup>1</allowCleanup>\n" in response.text
    assert "   <output/>\n" in response.text or "   <output>\n" in response.text


def test_csrf_header_missing(sb: NextcloudSandbox) -> None:
    response = httpx.get(f"{sb.base_url}{TP}/tasktypes", auth=(sb.user_id, sb.app_password))
    assert response.status_code == 412
    assert response.content == b'{"message":"CSRF check failed"}'
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_csrf_header_must_be_exactly_true(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        auth=(sb.user_id, sb.app_password),
        headers={"OCS-APIRequest": "True"},
    )
    assert response.status_code == 412


def test_bearer_app_password_passes_csrf(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        headers={"Authorization": f"Bearer {sb.app_password}", "Accept": "application/json"},
    )
    assert response.status_code == 200


def test_not_logged_in(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        headers={"OCS-APIRequest": "true", "Accept": "application/json"},
    )
    assert response.status_code == 401
    assert response.content == (
        b'{"ocs":{"meta":{"status":"failure","statuscode":997,'
        b'"message":"Current user is not logged in"},"data":[]}}'
    )
    assert "www-authenticate" not in response.headers


def test_login_is_checked_before_csrf(sb: NextcloudSandbox) -> None:
    response = httpx.get(f"{sb.base_url}{TP}/tasktypes", params={"format": "json"})
    assert response.status_code == 401
    assert response.json()["ocs"]["meta"]["statuscode"] == 997


def test_wrong_password_gets_legacy_xml(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        auth=(sb.user_id, "wrong-password"),
        headers={"OCS-APIRequest": "true", "Accept": "application/json"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="Authorisation Required"'
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert response.text == (
        '<?xml version="1.0"?>\n<ocs>\n <meta>\n  <status>failure</status>\n'
        "  <statuscode>997</statuscode>\n  <message>Unauthorised</message>\n </meta>\n"
        " <data/>\n</ocs>\n"
    )


@pytest.mark.parametrize("entry", ["v1", "v2"])
def test_wrong_password_is_xml_even_when_json_is_asked(sb: NextcloudSandbox, entry: str) -> None:
    # ocs/v1.php answers a LoginException without passing the format (reference §2).
    response = httpx.get(
        f"{sb.base_url}/ocs/{entry}.php/taskprocessing/tasktypes",
        params={"format": "json"},
        headers={"Accept": "application/json"},
        auth=("nobody", "secret"),
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert "<statuscode>997</statuscode>" in response.text
    assert "<message>Unauthorised</message>" in response.text


def test_wrong_password_from_javascript(sb: NextcloudSandbox) -> None:
    response = httpx.get(
        f"{sb.base_url}{TP}/tasktypes",
        auth=(sb.user_id, "wrong-password"),
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert response.headers["www-authenticate"] == 'DummyBasic realm="Authorisation Required"'


def test_unknown_route(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/nonexistent", params={"format": "json"})
    assert response.status_code == 404
    meta = response.json()["ocs"]["meta"]
    assert meta["statuscode"] == 404  # OC_API::mapStatusCodes rewrites 998 on v2
    assert meta["message"].startswith("Invalid query, please check the syntax. API specifications")
    assert response.json()["ocs"]["data"] == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{TP}/tasks/app/a%0Ab", 200),
        ("/ocs/v2.php/textprocessing/task/1%0A2", 404),
        (f"{TP}/tasktypes%0A", 404),  # a trailing line feed is no match either (Symfony's D flag)
    ],
)
def test_line_feed_in_path_reaches_the_ocs_router(
    alice: httpx.Client, path: str, status: int
) -> None:
    response = alice.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(("application/json", "text/xml"))


def test_wrong_method_on_known_route(alice: httpx.Client) -> None:
    response = alice.put(f"{TP}/tasktypes")
    assert response.status_code == 405
    assert response.content == b""


def test_exapp_routes_refuse_users(alice: httpx.Client) -> None:
    response = alice.get(f"{TP}/tasks_provider/next", params={"providerIds[]": "x"})
    assert response.status_code == 412
    assert response.content == b'{"message":"ExApp required"}'


def test_missing_required_argument_is_a_server_error(alice: httpx.Client) -> None:
    response = alice.post(f"{TP}/schedule", json={"input": {"input": "x"}, "appId": "a"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert "<statuscode>500</statuscode>" in response.text  # rewritten from 996 on v2


def test_form_encoded_schedule_with_php_brackets(alice: httpx.Client) -> None:
    response = alice.post(
        f"{TP}/schedule",
        content="input[input]=hello&input[max_tokens]=7&type=core:text2text&appId=form",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert ocs_data(response)["task"]["input"] == {
        "max_tokens": "7",
        "model": "model_2",
        "input": "hello",
    }


def test_rate_limit() -> None:
    now = [1000.0]
    sandbox = NextcloudSandbox(
        users={"alice": "aaaaa-aaaaa-aaaaa-aaaaa-aaaaa", "bob": "bbbbb-bbbbb-bbbbb-bbbbb-bbbbb"},
        rate_limit=2,
        monotonic_clock=lambda: now[0],
    )
    with sandbox, client_for(sandbox, "alice") as alice, client_for(sandbox, "bob") as bob:
        assert schedule(alice, "core:text2text", {"input": "1"}).status_code == 200
        assert schedule(alice, "core:text2text", {}).status_code == 400  # counted as well
        refused = schedule(alice, "core:text2text", {"input": "3"})
        assert refused.status_code == 429
        assert refused.content == b""
        assert "retry-after" not in refused.headers
        assert schedule(bob, "core:text2text", {"input": "b"}).status_code == 200
        now[0] += 119.9
        assert schedule(alice, "core:text2text", {"input": "4"}).status_code == 429
        now[0] += 0.1
        assert schedule(alice, "core:text2text", {"input": "5"}).status_code == 200
        assert alice.get(f"{TP}/tasks").status_code == 200  # only schedule is limited


def test_injected_error_then_recovery(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_error(r"/tasktypes$", 502, b"Bad Gateway", headers={"Content-Type": "text/plain"})
    first = alice.get(f"{TP}/tasktypes")
    assert (first.status_code, first.text) == (502, "Bad Gateway")
    assert alice.get(f"{TP}/tasktypes").status_code == 200


def test_injected_error_only_for_its_method(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_error(r"/task/", 503, method="DELETE", times=2)
    assert alice.get(f"{TP}/task/1").status_code in (200, 404)
    assert alice.delete(f"{TP}/task/424242").status_code == 503
    assert alice.delete(f"{TP}/task/424242").status_code == 503
    assert alice.delete(f"{TP}/task/424242").status_code == 200


def test_injected_error_after_some_requests_pass(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_error(r"/tasktypes$", 507, method="GET", after=2)
    assert [alice.get(f"{TP}/tasktypes").status_code for _ in range(4)] == [200, 200, 507, 200]


def test_injected_maintenance(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_maintenance(r"/tasktypes$")
    response = alice.get(f"{TP}/tasktypes", params={"format": "json"})
    assert response.status_code == 503
    assert response.headers["x-nextcloud-maintenance-mode"] == "1"
    assert response.json()["ocs"]["meta"] == {
        "status": "failure",
        "statuscode": 503,
        "message": "Service unavailable",
    }


def test_dropped_connection(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.inject_drop(r"/tasktypes$")
    with pytest.raises(httpx.TransportError):
        alice.get(f"{TP}/tasktypes")
    assert alice.get(f"{TP}/tasktypes").status_code == 200
    dropped = sb.requests_to("GET", r"/tasktypes$")[-2]
    assert dropped.status is None


def test_request_log(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.clear_requests()
    alice.get(f"{TP}/tasks", params={"format": "json", "customId": "x"})
    (request,) = sb.requests
    assert (request.method, request.path, request.status) == ("GET", f"{TP}/tasks", 200)
    assert request.query == {"format": "json", "customId": "x"}
    assert request.headers["authorization"] == "REDACTED"
    assert request.headers["ocs-apirequest"] == "true"
    assert sb.requests_to(None, "/schedule") == []


def test_wait_for_requests(sb: NextcloudSandbox, alice: httpx.Client) -> None:
    sb.clear_requests()
    alice.get(f"{TP}/task/1")
    alice.get(f"{TP}/task/2")
    alice.get(f"{TP}/tasks")
    assert len(sb.wait_for_requests("GET", r"/task/\d+$", count=2)) == 2
    with pytest.raises(TimeoutError):
        sb.wait_for_requests("GET", r"/task/\d+$", count=3, timeout=0.05)


def test_status_php(sb: NextcloudSandbox) -> None:
    status = httpx.get(f"{sb.base_url}/status.php").json()
    assert status["installed"] is True
    assert status["versionstring"] == "33.0.0"
