"""The markdown pieces the flows' reports share."""

from __future__ import annotations

from prefect_nextcloud.client.paths import NextcloudPath
from prefect_nextcloud.flows.reports import file_section, quoted


def test_an_answer_is_quoted_line_by_line() -> None:
    assert quoted("A cat.\nOn a mat.") == ["> A cat.", "> On a mat."]


def test_an_empty_answer_is_one_empty_quote_line() -> None:
    assert quoted("") == ["> "]


def test_a_file_section_names_the_file_its_path_and_its_task() -> None:
    section = file_section(NextcloudPath("/Photos/a.png"), 12, ["> A cat."])
    assert section == ["## a.png", "", "`/Photos/a.png` (Nextcloud task 12)", "", "> A cat.", ""]


def test_a_file_section_links_its_path_to_the_file_and_escapes_its_name() -> None:
    url = "https://cloud.example.com/index.php/f/7"
    section = file_section(NextcloudPath("/Odd/`a`|*b*.png"), 12, ["> A cat."], url=url)
    assert section[0] == "## \\`a\\`\\|\\*b\\*.png"
    assert section[2] == f"[``/Odd/`a`|*b*.png``]({url}) (Nextcloud task 12)"


def test_a_file_without_a_task_says_none_was_scheduled() -> None:
    section = file_section(NextcloudPath("/Photos/a.png"), None, ["**Not analyzed:** no"])
    assert section[2] == "`/Photos/a.png` (not scheduled)"
