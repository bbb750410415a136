import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers.models import Paper
from papers.services import readme_import
from tests.test_import import db_state

pytestmark = pytest.mark.django_db


def export(*args):
    out = StringIO()
    call_command("export_readme", *args, stdout=out)
    return out.getvalue()


def comparable(state):
    """Round-trip comparison ignores what an export cannot carry (timestamps)."""
    papers = sorted(row[:8] for row in state["papers"])
    videos = sorted(row[:8] for row in state["videos"])
    return {
        "categories": [row[0] for row in state["categories"]],
        "papers": papers,
        "placements": state["placements"],
        "videos": videos,
        "links": state["links"],
    }


def reimport(text, django_db_blocker=None):
    from papers.models import Category, VideoNote

    VideoNote.objects.all().delete()
    Paper.objects.all().delete()
    Category.objects.all().delete()
    readme_import(text=text)


@pytest.mark.parametrize("badges", [False, True], ids=["stored-counts", "badges"])
def test_round_trip_excerpt(excerpt_text, badges):
    readme_import(text=excerpt_text)
    before = comparable(db_state())
    reimport(export(*(["--badges"] if badges else [])))
    after = comparable(db_state())
    assert after == before
    assert (len(after["papers"]), len(after["videos"])) == (17, 13)


@pytest.mark.parametrize("badges", [False, True], ids=["stored-counts", "badges"])
def test_round_trip_full_readme(full_readme_text, badges):
    readme_import(text=full_readme_text)
    before = comparable(db_state())
    text = export(*(["--badges"] if badges else []))
    reimport(text)
    after = comparable(db_state())
    assert after == before
    assert len(after["papers"]) == 90
    assert len(after["videos"]) == 59


@pytest.mark.parametrize("badges", [False, True], ids=["stored-counts", "badges"])
def test_round_trip_seed_list(seed_text, badges):
    readme_import(text=seed_text)
    before = comparable(db_state())
    reimport(export(*(["--badges"] if badges else [])))
    assert comparable(db_state()) == before


def test_export_uses_stored_counts_not_badges(excerpt_text):
    readme_import(text=excerpt_text)
    fetched = timezone.make_aware(dt.datetime(2026, 11, 20, 3, 0))
    Paper.objects.filter(name="Transformer").update(
        citation_count=123456, citations_updated_at=fetched
    )
    text = export()
    assert "img.shields.io" not in text
    line = next(
        line
        for line in text.splitlines()
        if "[Transformer](" in line and "semanticscholar.org" in line
    )
    assert (
        "[123,456](https://www.semanticscholar.org/paper/"
        "204e3073870fae3d05bcbc2f6a8e263d9b72e776) (2026-11-20)"
    ) in line
    assert "总论文数 17，录制完成数 13，视频数 13" in text


def test_export_with_badges_writes_live_badges(excerpt_text):
    readme_import(text=excerpt_text)
    text = export("--badges")
    assert text.count("![citation](https://img.shields.io/badge/dynamic/json") == 17
    assert text.count("logo=bilibili") == 13


def test_export_keeps_categories_in_curator_order(excerpt_text):
    readme_import(text=excerpt_text)
    from papers.models import Category

    Category.objects.filter(name="系统").update(position=0)
    Category.objects.filter(name="计算机视觉 - CNN").update(position=99)
    headings = [line for line in export().splitlines() if line.startswith("### ")]
    assert headings[0] == "### 系统"
    assert headings[-1] == "### 计算机视觉 - CNN"


def test_export_to_file(tmp_path, seed_text):
    readme_import(text=seed_text)
    path = tmp_path / "README.md"
    out = export("-o", str(path))
    assert "wrote" in out
    assert "[Transformer](https://arxiv.org/abs/1706.03762)" in path.read_text()


def test_export_to_unwritable_place_is_a_clear_error(tmp_path, seed_text):
    readme_import(text=seed_text)
    with pytest.raises(CommandError, match="cannot write"):
        export("-o", str(tmp_path / "missing-dir" / "README.md"))


def test_export_keeps_only_safe_cover_paths():
    from tests.factories import VideoNoteFactory

    VideoNoteFactory(title="Bad", cover_path="javascript:alert(1)")
    VideoNoteFactory(title="Relative", cover_path="imgs/ok.jpg")
    VideoNoteFactory(title="Remote", cover_path="https://i0.hdslb.com/c.jpg")

    text = export()

    assert "javascript:" not in text
    assert '<img src="imgs/ok.jpg"' in text
    assert '<img src="https://i0.hdslb.com/c.jpg"' in text
