"""Credentials reach a flow run only as a saved block: the app password is never a parameter.

A deployment run given the block's fields written out is refused by the Prefect API before it
is stored; a direct call with them fails before anything is sent to Nextcloud; a block object
is stored with its password masked; and no error about the credentials repeats the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.deployments.runner import DeploymentApplyError
from prefect.exceptions import PrefectHTTPStatusError
from prefect.flow_engine import run_flow
from prefect.logging.handlers import APILogWorker
from security_helpers import LogCapture, SecretScanner, basic_forms, exception_surfaces

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.flows import analyze_image, image_report, process_new_files
from prefect_nextcloud.flows.analyze_image import ImageAnalysis
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}
MASK = "**********"  # how Prefect shows a SecretStr


def fields_of(sandbox: NextcloudSandbox) -> dict[str, str]:
    """The block's fields written out, as a careless caller would pass them."""
    return {
        "base_url": sandbox.base_url,
        "user_id": sandbox.user_id,
        "app_password": sandbox.app_password,
    }


def scanner_for(sandbox: NextcloudSandbox) -> SecretScanner:
    return SecretScanner(basic_forms(sandbox.user_id, sandbox.app_password))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


@dataclass(frozen=True)
class SavedBlock:
    name: str
    id: UUID

    def reference(self) -> dict[str, Any]:
        """What the run form sends for this block, picked from the list of saved ones."""
        return {"$ref": {"block_document_id": str(self.id)}}


@pytest.fixture
def saved_block(prefect_server: None, sandbox: NextcloudSandbox) -> SavedBlock:
    """The sandbox's credentials, saved as a block."""
    name = unique("run-parameters")
    return SavedBlock(name, sandbox.credentials.save(name))


@pytest.fixture
def deployment_id(prefect_server: None) -> UUID:
    """A deployment of analyze_image that enforces its parameter schema, as served ones do."""
    deployment = analyze_image.to_deployment(name=unique("run-parameters"))
    assert deployment.enforce_parameter_schema
    return deployment.apply()


def runs_of(deployment: UUID) -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment]))
        )


def refused_run(deployment: UUID, credentials: Any) -> PrefectHTTPStatusError:
    parameters = {"prompt": "Hi", "image_file_ids": ["1"], "credentials": credentials}
    with get_client(sync_client=True) as client, pytest.raises(PrefectHTTPStatusError) as info:
        client.create_flow_run_from_deployment(deployment, parameters=parameters)
    return info.value


# -- runs of a deployment ----------------------------------------------------------------------


def written_out(kind: str, sandbox: NextcloudSandbox, block: SavedBlock) -> dict[str, Any]:
    """The credentials written out, whole or in part, as a careless API caller might send them."""
    password = sandbox.app_password
    return {
        "all-fields": fields_of(sandbox),
        "and-options": {**fields_of(sandbox), "verify_tls": False},
        "password-only": {"app_password": password},
        "misspelt-fields": {"url": sandbox.base_url, "password": password},
        "beside-a-reference": {**block.reference(), "app_password": password},
    }[kind]


@pytest.mark.parametrize(
    "kind",
    ["all-fields", "and-options", "password-only", "misspelt-fields", "beside-a-reference"],
)
def test_a_deployment_run_given_the_fields_is_refused_before_it_is_stored(
    sandbox: NextcloudSandbox, saved_block: SavedBlock, deployment_id: UUID, kind: str
) -> None:
    error = refused_run(deployment_id, written_out(kind, sandbox, saved_block))
    assert error.response.status_code == 409
    assert "credentials" in error.response.text
    assert runs_of(deployment_id) == []
    assert sandbox.tasks() == []
    # What the API answers (the request, which holds the password, is the caller's own).
    scanner = scanner_for(sandbox)
    scanner.scan("response", error.response.text)
    scanner.scan("error", str(error))
    scanner.assert_clean()


def test_a_deployment_run_takes_a_saved_block_by_reference_or_by_name(
    sandbox: NextcloudSandbox, saved_block: SavedBlock, deployment_id: UUID
) -> None:
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    parameters = {"prompt": "Hi", "image_file_ids": [str(file_id)], **FAST}
    with get_client(sync_client=True) as client:
        by_reference = client.create_flow_run_from_deployment(
            deployment_id, parameters={**parameters, "credentials": saved_block.reference()}
        )
        by_name = client.create_flow_run_from_deployment(
            deployment_id, parameters={**parameters, "credentials": saved_block.name}
        )
        empty = client.create_flow_run_from_deployment(
            deployment_id, parameters={**parameters, "credentials": ""}
        )
    assert {run.id for run in runs_of(deployment_id)} == {by_reference.id, by_name.id, empty.id}
    assert by_reference.parameters["credentials"] == saved_block.reference()
    assert by_name.parameters["credentials"] == saved_block.name

    # A worker runs the stored parameters: the reference loads the block, password included.
    state = run_flow(
        analyze_image, flow_run=by_reference, parameters=by_reference.parameters,
        return_type="state",
    )  # fmt: skip
    assert state.is_completed(), state.message
    analysis: ImageAnalysis = state.result()
    assert [task.id for task in sandbox.tasks()] == [analysis.task_id]


def test_a_deployment_keeps_a_saved_block_but_not_the_fields_as_default(
    sandbox: NextcloudSandbox, saved_block: SavedBlock
) -> None:
    block = NextcloudCredentials.load(saved_block.name, _sync=True)
    kept = analyze_image.to_deployment(
        name=unique("run-parameters"), parameters={"credentials": block}
    )
    deployment_id = kept.apply()
    with get_client(sync_client=True) as client:
        assert client.read_deployment(deployment_id).parameters == {
            "credentials": saved_block.reference()
        }
        # Changing the default to the fields is refused as well.
        with pytest.raises(PrefectHTTPStatusError) as info:
            client.update_deployment(
                deployment_id, DeploymentUpdate(parameters={"credentials": fields_of(sandbox)})
            )
        assert info.value.response.status_code == 409
        assert client.read_deployment(deployment_id).parameters == {
            "credentials": saved_block.reference()
        }
    written_out = analyze_image.to_deployment(
        name=unique("run-parameters"), parameters={"credentials": fields_of(sandbox)}
    )
    # Refused; Prefect's answer to a malformed request repeats the request, password included.
    with pytest.raises(DeploymentApplyError, match="Additional properties are not allowed"):
        written_out.apply()
    with get_client(sync_client=True) as client:
        names = [deployment.name for deployment in client.read_deployments()]
    assert written_out.name not in names


# -- direct calls ------------------------------------------------------------------------------


def test_a_direct_call_with_the_fields_fails_before_reaching_nextcloud(
    prefect_server: None, sandbox: NextcloudSandbox, captured_logs: LogCapture
) -> None:
    state = analyze_image(
        prompt="Hi", image_file_ids=[1], credentials=fields_of(sandbox), return_state=True, **FAST
    )
    assert state.is_failed()
    with pytest.raises(TypeError) as info:
        state.result()
    message = str(info.value)
    assert "credentials must be a Nextcloud Credentials block" in message
    assert "not a value of type dict" in message
    assert '.save("nextcloud")' in message
    assert "prefect block create nextcloud-credentials" in message
    assert sandbox.requests == []

    messages = [record.getMessage() for record in captured_logs.records]
    assert any("Validation of flow parameters failed" in message for message in messages)
    scanner = scanner_for(sandbox)
    for where, surface in exception_surfaces(info.value).items():
        scanner.scan(f"error {where}", surface)
    scanner.scan("state message", state.message)
    scanner.scan_all("log record", messages)
    APILogWorker.drain_all(timeout=30)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
        )
    scanner.scan_all("flow run log", (log.message for log in logs))
    scanner.scan("state", repr(state))
    assert flow_run.state is not None
    scanner.scan("stored state", flow_run.state.model_dump_json())
    scanner.assert_clean()
    # Prefect stores a direct call's arguments before checking them (see the README): only
    # the call itself can keep the password out of the run's parameters.
    assert flow_run.parameters["credentials"]["app_password"] == sandbox.app_password


def test_a_flow_without_parameter_validation_refuses_the_fields_too(
    prefect_server: None, sandbox: NextcloudSandbox
) -> None:
    unchecked = analyze_image.with_options(validate_parameters=False)
    with pytest.raises(TypeError, match=r"not a value of type dict: .*save\(") as info:
        unchecked(prompt="Hi", image_file_ids=[1], credentials=fields_of(sandbox), **FAST)
    assert sandbox.requests == []
    scanner = scanner_for(sandbox)
    for where, surface in exception_surfaces(info.value).items():
        scanner.scan(where, surface)
    scanner.assert_clean()


@pytest.mark.parametrize("saved", [False, True], ids=["unsaved", "saved"])
def test_a_block_object_is_stored_with_its_password_masked(
    prefect_server: None, sandbox: NextcloudSandbox, saved: bool
) -> None:
    credentials = sandbox.credentials
    if saved:
        credentials.save(unique("run-parameters"))
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    state = analyze_image(
        prompt="Hi", image_file_ids=[file_id], credentials=credentials, return_state=True, **FAST
    )
    analysis = state.result()
    assert [task.id for task in sandbox.tasks()] == [analysis.task_id]
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(state.state_details.flow_run_id).parameters
    assert stored["credentials"]["app_password"] == MASK
    assert stored["credentials"]["user_id"] == sandbox.user_id
    scanner = scanner_for(sandbox)
    scanner.scan("stored parameters", repr(stored))
    scanner.assert_clean()


# -- validation errors -------------------------------------------------------------------------

PASSWORD = "Secr3t-App-Passw0rd-Value"
FIELDS = {"base_url": "https://cloud.example.invalid", "user_id": "carol", "app_password": PASSWORD}


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
@pytest.mark.parametrize(
    "credentials",
    [FIELDS, {"app_password": PASSWORD}, [PASSWORD], (PASSWORD,), {PASSWORD}, 12345],
    ids=["fields", "password-only", "list", "tuple", "set", "number"],
)
def test_the_credentials_parameter_refuses_all_but_a_block_without_repeating_it(
    flow_object: Any, credentials: Any
) -> None:
    required = {"prompt": "p", "image_file_ids": ["1"]} if flow_object is analyze_image else {}
    with pytest.raises(TypeError, match="must be a Nextcloud Credentials block") as info:
        flow_object.validate_parameters({**required, "credentials": credentials})
    assert f"not a value of type {type(credentials).__name__}:" in str(info.value)
    scanner = SecretScanner(basic_forms("carol", PASSWORD))
    for where, surface in exception_surfaces(info.value).items():
        scanner.scan(where, surface)
    scanner.assert_clean()


def test_the_block_object_a_name_or_empty_pass_validation() -> None:
    block = NextcloudCredentials(
        base_url=FIELDS["base_url"], user_id=FIELDS["user_id"], app_password=PASSWORD
    )
    for given, expected in [(block, block), ("nextcloud", "nextcloud"), ("", None)]:
        parameters = analyze_image.validate_parameters(
            {"prompt": "p", "image_file_ids": ["1"], "credentials": given}
        )
        assert parameters["credentials"] == expected
