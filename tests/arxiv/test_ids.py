"""arXiv identifiers in every form map to one canonical id."""

from __future__ import annotations

import pytest

from hotpapers.arxiv.ids import canonical_id, find_ids, split_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2103.06902", ("2103.06902", None)),
        ("2103.06902v2", ("2103.06902", 2)),
        ("arXiv:2103.06902v3", ("2103.06902", 3)),
        ("https://arxiv.org/abs/2103.06902v2", ("2103.06902", 2)),
        ("https://arxiv.org/pdf/2103.06902", ("2103.06902", None)),
        ("https://arxiv.org/html/2103.06902v1", ("2103.06902", 1)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.GT/0309136v2", ("math.GT/0309136", 2)),
        ("oai:arXiv.org:hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("0704.0001", ("0704.0001", None)),
    ],
)
def test_split_id(text: str, expected: tuple[str, int | None]) -> None:
    """Each form yields the version-less id and its version."""
    assert split_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", "abc", "2103.069", "12345.67890", "https://example.com/abs/2103.06902"]
)
def test_not_an_id(text: str) -> None:
    """Text that is not an arXiv reference is refused."""
    assert canonical_id(text) is None


def test_find_ids_in_post_text() -> None:
    """Links in free text are found once each, whatever their form."""
    text = (
        "see https://arxiv.org/abs/2103.06902v1 and arxiv.org/pdf/2103.06902.pdf"
        " or arxiv.org/abs/hep-th/9901001"
    )
    assert find_ids(text) == ["2103.06902", "hep-th/9901001"]


def test_lookalike_hosts_are_not_arxiv() -> None:
    """notarxiv.org is not arXiv; export.arxiv.org is."""
    assert find_ids("https://notarxiv.org/abs/2103.06902") == []
    assert find_ids("http://export.arxiv.org/abs/2103.06902") == ["2103.06902"]


@pytest.mark.parametrize(
    "text",
    [
        "٢١٠٣.٠٧٢٨٩",  # Arabic-Indic digits
        "２１０３.０６９０２",  # fullwidth digits
        "2103.06902v٢",
        "hep-th/٩٩٠١٠٠١",
        "https://arxiv.org/abs/٢١٠٣.٠٧٢٨٩",
    ],
)
def test_non_ascii_digits_are_not_an_id(text: str) -> None:
    """arXiv ids are ASCII: other scripts' digits (which `\\d` matches) are refused."""
    assert split_id(text) is None
    assert find_ids(text) == []
