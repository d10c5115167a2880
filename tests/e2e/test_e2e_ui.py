"""A person starts a custom run of analyze-image from the Prefect UI, in Debian's Chromium.

The UI is the one ``prefect server start`` serves; the run goes through the same work pool and
worker as the other end-to-end tests. Screenshots go to ``.artifacts/e2e/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import Stack, artifact_of, prefect_api, wait_for, wait_for_end

from prefect_nextcloud.blocks import NextcloudCredentials

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags, Chromium's own connections to Google are refused
# many at a time on a closed network; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IMAGE = "nc:/Photos/dawn.png"
PROMPT = "Which colours dominate this picture?"


def install_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when it is missing and this is root."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt_get = shutil.which("apt-get")
    if apt_get is None or os.geteuid() != 0:
        pytest.skip(
            f"No browser: {CHROMIUM} is missing, and installing Debian's chromium package "
            "needs apt-get and root. Install it (apt-get install chromium) to run this test."
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt_get, "install", "-y", "--no-install-recommends", "chromium"]
    result = subprocess.run(install, env=environment, capture_output=True, text=True, check=False)
    if result.returncode:  # the package lists may be missing or stale on a fresh machine
        subprocess.run([apt_get, "update"], env=environment, capture_output=True, check=False)
        result = subprocess.run(
            install, env=environment, capture_output=True, text=True, check=False
        )
    if result.returncode or not CHROMIUM.exists():
        pytest.skip(f"No browser: apt-get install chromium failed:\n{result.stderr[-2000:]}")
    return CHROMIUM


@pytest.fixture(scope="module")
def page(artifacts: Path) -> Iterator[Any]:
    """A page of a headless Chromium; a screenshot is saved if the test fails."""
    from playwright.sync_api import sync_playwright

    executable = install_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(90_000)  # two loaded cores render the UI slowly
        try:
            yield page
        finally:
            with suppress(Exception):  # the page as the test left it, for a failure
                page.screenshot(path=artifacts / "ui-last-page.png", full_page=True)
            browser.close()


def form_field(page: Any, name: str) -> Any:
    """The form section of one flow parameter, found by its label."""
    label = page.locator("span.schema-form-property__label", has_text=name)
    return page.locator("div.schema-form-property").filter(has=label).last


def test_a_custom_run_from_the_ui_form(
    stack: Stack,
    deployed_twice: tuple[dict[str, Any], dict[str, Any]],
    page: Any,
    artifacts: Path,
) -> None:
    from playwright.sync_api import expect

    # From the list of deployments to analyze-image, then Run > Custom run.
    page.goto(f"{stack.ui_url}/deployments")
    page.get_by_role("link", name="analyze-image", exact=True).first.click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Custom run", exact=True).click()

    # Fill the form as a person would: a question, the image as plain text, a short poll.
    run_name = page.locator("form input").first.input_value()
    prompt = form_field(page, "Prompt").locator("textarea, input").first
    prompt.fill("")
    prompt.press_sequentially(PROMPT)
    images = form_field(page, "Images")
    images.get_by_role("button", name="Add item").click()
    image = images.locator("textarea, input").first
    image.click()
    image.press_sequentially(IMAGE)
    poll = form_field(page, "Poll interval (seconds)").locator("input").first
    poll.fill("")
    poll.press_sequentially("1")
    # The credentials field is a picker of the saved blocks alone, the deployment's one picked.
    credentials_field = form_field(page, "Nextcloud credentials")
    expect(credentials_field.locator(".p-select-button__control").first).to_contain_text(
        "nextcloud"
    )
    expect(credentials_field.get_by_role("button", name="NextcloudCredentials")).to_have_count(0)
    page.screenshot(path=artifacts / "ui-1-form-filled.png", full_page=True)
    page.get_by_role("button", name="Submit", exact=True).click()

    # The run exists with the text as it was typed, and the worker runs it.
    flow_run = wait_for("the run submitted from the UI", lambda: run_named(stack, run_name), 60)
    assert flow_run.parameters["image_file_ids"] == [IMAGE]
    assert flow_run.parameters["prompt"] == PROMPT
    _, deployments = deployed_twice
    # The reference to the saved block that the deployment holds, as the form showed it.
    assert (
        flow_run.parameters["credentials"]
        == deployments["analyze-image"]["parameters"]["credentials"]
    )
    assert set(flow_run.parameters["credentials"]) == {"$ref"}
    [ended] = wait_for_end(stack, [flow_run.id])
    assert ended.state.is_completed(), ended.state

    # The run's page shows it completed; its artifact holds the answer about that image.
    page.get_by_role("link", name=run_name, exact=True).first.click()
    page.get_by_text("Completed").first.wait_for()
    page.screenshot(path=artifacts / "ui-2-run-completed.png", full_page=True)
    artifact = artifact_of(stack, ended, "image-analysis")
    assert PROMPT in artifact, artifact
    with prefect_api(stack.api_url):
        credentials = NextcloudCredentials.load("nextcloud", _sync=True)
    with credentials.get_client() as client:  # type: ignore[attr-defined]
        dawn_id = client.get_file_id(IMAGE.removeprefix("nc:"))
    # Named by its path, linked to the file in Nextcloud's Files app.
    assert f"[{IMAGE.removeprefix('nc:')}](" in artifact, artifact
    assert f"/index.php/f/{dawn_id})" in artifact, artifact


def run_named(stack: Stack, name: str) -> Any:
    """The flow run of this name, or None while it does not exist yet."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with prefect_api(stack.api_url) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
    return runs[0] if runs else None
