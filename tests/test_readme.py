"""The README's flow examples run as written, against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from prefect_nextcloud.sandbox import NextcloudSandbox, sample_image_bytes

pytestmark = pytest.mark.usefixtures("prefect_server")

README = Path(__file__).resolve().parent.parent / "README.md"


def example(function_name: str) -> dict[str, Any]:
    """Execute the README code block that defines ``function_name`` and return its names."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [code] = [block for block in blocks if f"def {function_name}(" in block]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace


def test_describe_and_summarize(sandbox: NextcloudSandbox) -> None:
    sandbox.credentials.save("nextcloud", overwrite=True)
    file_id = sandbox.upload("photo.png", sample_image_bytes())
    flow = example("describe_and_summarize")["describe_and_summarize"]
    assert flow(file_id).startswith("Sandbox summary of 1 paragraph (")


def test_files_example(sandbox: NextcloudSandbox, tmp_path: Path) -> None:
    sandbox.upload("Photos/receipt.jpg", sample_image_bytes())
    recording = tmp_path / "memo.wav"
    recording.write_bytes(b"RIFF....WAVE")
    flow = example("files_example")["files_example"]
    names = flow(sandbox.credentials, recording)
    assert len(names) == 1
    with sandbox.credentials.get_client() as client:
        report = client.download_file("/Reports/receipt.md").decode()
        generated = client.get_file_info("/Photos/Generated")
    assert "the sandbox recognises no speech" in report
    assert "PNG" in report
    assert generated.is_folder
