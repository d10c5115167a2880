"""The analyze_image flow and the deployment file of both flows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_helpers import artifact_of
from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.exceptions import PrefectHTTPStatusError
from prefect.flows import load_flow_from_entrypoint

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.deployments.steps import saved_credentials_reference
from prefect_nextcloud.flows import analyze_image, image_report, process_new_files
from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes
from prefect_nextcloud.tasks import cancel_outstanding_tasks

pytestmark = pytest.mark.usefixtures("prefect_server")

ROOT = Path(__file__).resolve().parent.parent
FAST = {"timeout_seconds": 30.0, "poll_interval_seconds": 0.05}


def test_flow_returns_the_analysis_and_leaves_an_artifact(sandbox: NextcloudSandbox) -> None:
    named = sandbox.upload("Photos/a|b *c*.png", sample_image_bytes())
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    state = analyze_image(
        prompt="What is in it?",
        image_file_ids=["nc:/Photos/a|b *c*.png", file_id],
        credentials=sandbox.credentials,
        return_state=True,
        **FAST,
    )
    analysis = state.result()
    assert "What is in it?" in analysis.analysis_text
    artifact = artifact_of(state.state_details.flow_run_id, "image-analysis")
    data = str(artifact.data)
    assert "**Prompt:** What is in it?" in data
    base = sandbox.credentials.base_url
    # By path, escaped, linked to the file in Files; an image given by id links by its id.
    assert (
        f"**Images:** [/Photos/a\\|b \\*c\\*.png]({base}/index.php/f/{named}), "
        f"[file {file_id}]({base}/index.php/f/{file_id})\n"
    ) in data
    assert f"Nextcloud task:** {analysis.task_id}" in data
    # The block parameter reaches the API with its secret masked.
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
    assert sandbox.app_password not in str(flow_run.parameters)


def test_flow_loads_a_saved_block_by_name(sandbox: NextcloudSandbox) -> None:
    sandbox.credentials.save("sandbox-by-name", overwrite=True)
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    analysis = analyze_image(
        prompt="Hi", image_file_ids=[file_id], credentials="sandbox-by-name", **FAST
    )
    assert analysis.task_id == sandbox.tasks()[0].id


def test_flow_falls_back_to_the_environment(
    sandbox: NextcloudSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEXTCLOUD_URL", sandbox.base_url)
    monkeypatch.setenv("NEXTCLOUD_USER", sandbox.user_id)
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", sandbox.app_password)
    file_id = sandbox.upload("sample.png", sample_image_bytes())
    analysis = analyze_image(prompt="Hi", image_file_ids=[file_id], **FAST)
    assert analysis.task_id == sandbox.tasks()[0].id


@pytest.mark.parametrize(
    ("flow_object", "required", "constraints"),
    [
        pytest.param(
            analyze_image,
            ["prompt", "image_file_ids"],
            {"timeout_seconds": {"exclusiveMinimum": 0, "maximum": 7 * 24 * 3600}},
            id="analyze-image",
        ),
        pytest.param(
            image_report,
            [],
            {"max_images": {"exclusiveMinimum": 0}, "folder": {"default": "/Photos"}},
            id="image-report",
        ),
        pytest.param(
            process_new_files,
            [],
            {
                "task": {"enum": ["image-analysis", "ocr"]},
                "max_files": {"exclusiveMinimum": 0},
                "tag": {"type": "string", "default": "", "title": "Tag processed files"},
            },
            id="process-new-files",
        ),
    ],
)
def test_each_flow_form_requires_only_what_it_needs_and_bounds_its_values(
    flow_object: Flow[..., Any], required: list[str], constraints: dict[str, dict[str, Any]]
) -> None:
    schema = flow_object.parameters.model_dump()
    assert schema.get("required", []) == required
    for name, expected in constraints.items():
        field = schema["properties"][name]
        assert {key: field.get(key) for key in expected} == expected, name


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
def test_every_flow_cancels_its_nextcloud_tasks_when_cancelled_or_crashed(
    flow_object: Flow[..., Any],
) -> None:
    assert flow_object.on_cancellation_hooks == [cancel_outstanding_tasks]
    assert flow_object.on_crashed_hooks == [cancel_outstanding_tasks]


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
def test_every_form_field_has_a_human_title_and_a_description(flow_object: Flow[..., Any]) -> None:
    for name, field in flow_object.parameters.model_dump()["properties"].items():
        assert field["description"], name
        assert field["title"] != name, f"{name} is labelled with its Python name"
        assert field["title"][0].isupper(), field["title"]


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
def test_optional_fields_are_plain_inputs_not_a_choice_of_null(flow_object: Flow[..., Any]) -> None:
    for name, field in flow_object.parameters.model_dump()["properties"].items():
        assert {"type": "null"} not in field.get("anyOf", []), name
        assert field.get("type") != "null", name


def test_files_are_typed_as_plain_text_one_per_item() -> None:
    field = analyze_image.parameters.model_dump()["properties"]["image_file_ids"]
    assert field["type"] == "array"
    assert field["items"] == {"type": "string"}
    # What the form sends, and what Python callers pass, both validate.
    assert analyze_image.validate_parameters(
        {"prompt": "p", "image_file_ids": ["nc:/Photos/a.png", "12"]}
    )["image_file_ids"] == ["nc:/Photos/a.png", "12"]
    assert analyze_image.validate_parameters(
        {"prompt": "p", "image_file_ids": "nc:/a.png\n nc:/b.png \n"}
    )["image_file_ids"] == ["nc:/a.png", "nc:/b.png"]
    assert (
        analyze_image.validate_parameters({"prompt": "p", "image_file_ids": 7})["image_file_ids"]
        == 7
    )


def test_an_empty_optional_text_means_its_default() -> None:
    parameters = analyze_image.validate_parameters(
        {
            "prompt": "p",
            "image_file_ids": ["1"],
            "model": " ",
            "credentials": "",
            "idempotency_key": "",
        }
    )
    assert parameters["model"] is None
    assert parameters["credentials"] is None
    assert parameters["idempotency_key"] is None
    # The form starts these fields empty: a null default fails the form's own check of a text.
    properties = analyze_image.parameters.model_dump()["properties"]
    assert properties["model"]["default"] == properties["idempotency_key"]["default"] == ""


@pytest.mark.parametrize("flow_object", [analyze_image, image_report, process_new_files])
def test_the_credentials_field_is_a_picker_of_saved_blocks_and_takes_no_fields(
    flow_object: Flow[..., Any],
) -> None:
    schema = flow_object.parameters.model_dump()
    field = schema["properties"]["credentials"]
    # A reference to the block type alone: the form shows a picker, not a toggle of choices.
    assert field["$ref"] == "#/definitions/NextcloudCredentials"
    assert "anyOf" not in field
    assert "type" not in field
    block = schema["definitions"]["NextcloudCredentials"]
    assert block["block_type_slug"] == "nextcloud-credentials"
    assert block["title"] == "NextcloudCredentials"
    # A reference holds "$ref" alone; the block's fields are not a choice.
    assert field["properties"] == {"$ref": {}}
    assert field["additionalProperties"] is False
    assert "properties" not in block
    # The block's own schema, which its creation form shows, keeps every field.
    assert "app_password" in NextcloudCredentials.model_json_schema()["properties"]


def deployments() -> list[dict[str, object]]:
    return yaml.safe_load((ROOT / "deployment.yaml").read_text())["deployments"]


def test_deployments_need_no_pull_step() -> None:
    # An empty list, not null: without any, `prefect deploy` records its own directory.
    assert yaml.safe_load((ROOT / "deployment.yaml").read_text())["pull"] == []
    # Slugs let a second deploy update the schedules in place instead of replacing them.
    for deployment in deployments():
        for schedule in deployment.get("schedules", []):  # type: ignore[attr-defined]
            assert schedule["slug"], deployment["name"]


CREDENTIALS_PLACEHOLDER = "{{ nextcloud-credentials.reference }}"


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: str(d["name"]))
def test_deployment_entrypoints_load_from_any_directory(
    deployment: dict[str, Any],
    sandbox: NextcloudSandbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A worker's flow run starts in a directory of its own and imports the installed package.
    monkeypatch.chdir(tmp_path)
    loaded = load_flow_from_entrypoint(str(deployment["entrypoint"]))
    assert loaded.name == deployment["name"]
    # The parameters as `prefect deploy` stores them: the credentials refer to the saved block.
    parameters = dict(deployment["parameters"])
    assert parameters["credentials"] == CREDENTIALS_PLACEHOLDER
    block_id = sandbox.credentials.save(f"entrypoint-{loaded.name}", overwrite=True)
    parameters["credentials"] = {"$ref": {"block_document_id": str(block_id)}}
    if loaded.name == analyze_image.name:
        parameters["image_file_ids"] = [1]
    validated = loaded.validate_parameters(parameters)
    assert validated["credentials"].user_id == sandbox.user_id


def test_deploying_without_the_saved_block_says_what_to_save() -> None:
    with pytest.raises(
        ValueError, match="No \"Nextcloud Credentials\" block named 'absent'"
    ) as info:
        saved_credentials_reference("absent")
    assert "python blocks/save_credentials.py absent" in str(info.value)


def test_a_deployment_run_takes_files_as_text_and_refuses_anything_else_before_running(
    sandbox: NextcloudSandbox,
) -> None:
    deployment_id = analyze_image.to_deployment(name="file-references").apply()
    with get_client(sync_client=True) as client:
        accepted = client.create_flow_run_from_deployment(
            deployment_id, parameters={"prompt": "Hi", "image_file_ids": ["123", "nc:/a.png"]}
        )
        assert accepted.parameters["image_file_ids"] == ["123", "nc:/a.png"]
        # The form's schema types each file as text: a number (a file id not written as text),
        # no file at all, or a lone reference is refused, naming the field and what is wrong.
        for files, reason in [
            ([123], "123 is not of type 'string'"),
            ([], "should be non-empty"),
            ("nc:/a.png", "is not of type 'array'"),
        ]:
            with pytest.raises(PrefectHTTPStatusError) as info:
                client.create_flow_run_from_deployment(
                    deployment_id, parameters={"prompt": "Hi", "image_file_ids": files}
                )
            assert info.value.response.status_code == 409
            assert "Validation failed for field 'image_file_ids" in info.value.response.text
            assert reason in info.value.response.text
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    assert [run.id for run in runs] == [accepted.id]
    assert sandbox.tasks() == []
