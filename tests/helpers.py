"""Plain helpers the tests share: paths, service checks, form data.

Fixtures live in conftest.py; tests import these from here, never from conftest.
"""

import os
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The upstream snapshot beside the repository (../shared/fixtures): only the tests
# pinned to the real list read it; a plain clone has no such folder and they skip.
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
FULL_README = FIXTURES / "paper-reading-README.md"
S2_ID_LIST = FIXTURES / "s2-ids.txt"
UPSTREAM_SEED_LIST = FIXTURES / "seed-list.md"
# Ours: the seed list ships with the site; the excerpts are hand-written for the tests.
SEED_LIST = ROOT / "papers" / "data" / "seed-list.md"
DATA = ROOT / "tests" / "data"
EXCERPT = DATA / "upstream-excerpt.md"
FOUR_COLUMN_EXCERPT = DATA / "four-columns-excerpt.md"

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str):
    """Skip with a clear reason, except under CI, where a missing service fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a required service is missing: {reason}")
    pytest.skip(reason)


def shared_fixture(path: Path) -> Path:
    """``path`` under ../shared/fixtures; skips (fails under CI=true) when absent."""
    require(
        path.is_file(),
        f"needs the upstream snapshot {path.relative_to(SHARED.parent)} "
        "(../shared/fixtures beside the repository)",
    )
    return path


def read_full_readme() -> str:
    """The real upstream README (12 categories, 90 papers, 59 videos)."""
    return shared_fixture(FULL_README).read_text(encoding="utf-8")


def read_s2_ids() -> list[str]:
    """The 90 Semantic Scholar ids of the real list, in README order."""
    return shared_fixture(S2_ID_LIST).read_text(encoding="utf-8").split()


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def paper_form(**overrides) -> dict:
    """What the admin's "add paper" page posts: a paper, no inlines."""
    return {
        "name": "Transformer",
        "title": "",
        "url": "https://arxiv.org/abs/1706.03762",
        "year": "2017",
        "summary": "注意力",
        "slug": "",
        "s2_paper_id": "",
        "arxiv_id": "",
        "doi": "",
        "placements-TOTAL_FORMS": "0",
        "placements-INITIAL_FORMS": "0",
        "VideoNote_papers-TOTAL_FORMS": "0",
        "VideoNote_papers-INITIAL_FORMS": "0",
        **overrides,
    }


def admin_action(client, changelist_url: str, action: str, items, *, follow=False):
    """Run an admin action on ``items`` from the change list, as the page posts it."""
    data = {"action": action, "_selected_action": [str(item.pk) for item in items]}
    return client.post(changelist_url, data, follow=follow)


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


S2_BASE = "https://api.semanticscholar.org/graph/v1"  # answered by ``responses``


def quick_s2_client(*, max_retries: int):
    """A Semantic Scholar client at S2_BASE with no rate limit and no backoff waits."""
    from papers.semantic_scholar import SemanticScholarClient

    return SemanticScholarClient(
        base_url=S2_BASE, max_rps=0, max_retries=max_retries, backoff_factor=0
    )


@contextmanager
def s2_answered_by(fake, *, references: bool = False):
    """HTTP to S2_BASE answered by a FakeSemanticScholar through ``responses``: the
    batch endpoint, and the references pages when asked."""
    import re

    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            responses.POST, f"{S2_BASE}/paper/batch", callback=fake.responses_callback
        )
        if references:
            mock.add_callback(
                responses.GET,
                re.compile(rf"{re.escape(S2_BASE)}/paper/[0-9a-f]{{40}}/references.*"),
                callback=fake.responses_get_callback,
            )
        yield mock
