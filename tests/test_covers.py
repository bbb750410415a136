"""Self-hosted covers (issue 12): the README's imgs/ read over a local HTTP server or
from a folder, every image checked (size, type from content, pixels), re-encoded to
WebP thumbnails, failures as warnings with line numbers, no second download."""

import io
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from papers.models import VideoNote
from papers.services.covers import (
    CoverError,
    cover_fill_from_url,
    cover_resolve,
    covers_import,
    make_thumbnails,
)
from papers.services.readme import readme_import
from tests.factories import VideoNoteFactory
from tests.fake_bilibili import Call, LoopbackServer, Reply

pytestmark = pytest.mark.django_db


def image_bytes(size=(1280, 720), fmt="JPEG", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


README = """## 录制完成的论文

| 日期 | 标题 | 封面 | 时长 | 视频（播放数） |
| --: | -- | -- | --: | -- |
| 3/15/23 | GPT-4论文精读 | <img src="imgs/gpt4.jpg" width="200px"/> | 1:20:00 | |
| 3/01/23 | Big | <img src="imgs/big.jpg" width="200px"/> | 1:00 | |
| 2/01/23 | Page | <img src="imgs/page.jpg" width="200px"/> | 1:00 | |
| 1/01/23 | Huge | <img src="imgs/huge.png" width="200px"/> | 1:00 | |
| 12/01/22 | Gone | <img src="imgs/gone.jpg" width="200px"/> | 1:00 | |
| 11/01/22 | PNG | ![cover](imgs/small.png) | 1:00 | |
"""


class Files(LoopbackServer):
    """Serves a README and its imgs/, counting every request."""

    name = "fake-github"

    def __init__(self, files: dict[str, bytes]):
        super().__init__()
        self.files = files

    def answer(self, call: Call) -> Reply:
        if call.path in self.files:
            return Reply(200, self.files[call.path])
        return Reply(404, b"<html>Not Found</html>")


@pytest.fixture
def files(settings):
    settings.COVER_MAX_BYTES = 200_000
    settings.COVER_MAX_PIXELS = 4_000_000
    served = {
        "/repo/README.md": README.encode(),
        "/repo/imgs/gpt4.jpg": image_bytes(),
        "/repo/imgs/big.jpg": b"\xff\xd8" + b"0" * 300_000,  # over the byte cap
        "/repo/imgs/page.jpg": b"<!DOCTYPE html><html><body>login</body></html>",
        "/repo/imgs/huge.png": image_bytes((4000, 2000), "PNG", (0, 0, 0)),
        "/repo/imgs/small.png": image_bytes((320, 180), "PNG"),
    }
    with Files(served) as server:
        yield server


def test_import_fetches_checks_and_thumbnails_the_readme_covers(files):
    base = f"{files.root_url}/repo/README.md"
    readme_import(text=README)

    report = covers_import(text=README, base=base)

    gpt4 = VideoNote.objects.get(title="GPT-4论文精读")
    assert gpt4.cover_thumb.width == 480 and gpt4.cover_thumb.height == 270
    assert gpt4.cover_thumb_large[1:] == (960, 540)
    assert gpt4.cover_thumb.url.startswith("/media/covers/thumbs/")
    with default_storage.open(gpt4.cover_small.name) as handle:
        stored = Image.open(handle)
        assert (stored.format, stored.size) == ("WEBP", (480, 270))
    assert gpt4.cover_source == f"{files.root_url}/repo/imgs/gpt4.jpg"
    assert gpt4.cover_path == "imgs/gpt4.jpg"  # the export keeps the README's path
    # A small cover is never enlarged.
    small = VideoNote.objects.get(title="PNG")
    assert small.cover_thumb[1:] == (320, 180)
    assert report.stored == 2
    warnings = "\n".join(report.warnings)
    assert "line 6: cover imgs/big.jpg: larger than 200000 bytes" in warnings
    assert "line 7: cover imgs/page.jpg: not an image" in warnings
    assert "line 8: cover imgs/huge.png: 4000×2000 is more than" in warnings
    assert "line 9: cover imgs/gone.jpg: HTTP 404" in warnings
    assert len(report.warnings) == 4
    for title in ("Big", "Page", "Huge", "Gone"):
        assert VideoNote.objects.get(title=title).cover_thumb is None


def test_reimport_downloads_nothing_again(files):
    base = f"{files.root_url}/repo/README.md"
    readme_import(text=README)
    covers_import(text=README, base=base)
    fetched = len(files.calls)

    report = covers_import(text=README, base=base)

    ok = {"/repo/imgs/gpt4.jpg", "/repo/imgs/small.png"}
    assert not {c.path for c in files.calls[fetched:]} & ok
    assert report.unchanged == 2 and report.stored == 0


def test_a_failed_cover_keeps_the_one_the_video_has(files):
    base = f"{files.root_url}/repo/README.md"
    readme_import(text=README)
    covers_import(text=README, base=base)
    gpt4 = VideoNote.objects.get(title="GPT-4论文精读")
    before = gpt4.cover_small.name
    # The same path now answers 404, from a README moved elsewhere.
    report = covers_import(text=README, base=f"{files.root_url}/moved/README.md")
    gpt4.refresh_from_db()
    assert gpt4.cover_small.name == before
    assert default_storage.exists(before)
    assert any("gpt4.jpg: HTTP 404" in w for w in report.warnings)


def test_file_readme_reads_covers_from_its_folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "gpt4.jpg").write_bytes(image_bytes())
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    readme_import(text=README)
    report = covers_import(text=README, base=str(readme))
    assert VideoNote.objects.get(title="GPT-4论文精读").cover_thumb is not None
    assert report.stored == 1
    assert any("line 9: cover imgs/gone.jpg: cannot read" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [
        (
            "imgs/a.jpg",
            "https://h.example/r/README.md",
            "https://h.example/r/imgs/a.jpg",
        ),
        ("../../etc/passwd", "/srv/list/README.md", ""),
        ("/etc/passwd", "/srv/list/README.md", ""),
        ("javascript:alert(1)", "/srv/list/README.md", ""),
        ("imgs/a.jpg", "/srv/list/README.md", "/srv/list/imgs/a.jpg"),
    ],
)
def test_cover_paths_are_read_against_the_readme(path, base, expected):
    assert cover_resolve(path, base=base) == expected


def test_type_comes_from_the_content_not_the_name():
    with pytest.raises(CoverError, match="not an image"):
        make_thumbnails(b"GIF89a but not really", max_pixels=10**6)
    thumbs = make_thumbnails(image_bytes((1000, 500), "WEBP"), max_pixels=10**6)
    assert [(t.width, t.height) for t in thumbs] == [(480, 240), (960, 480)]


def test_pixel_cap_is_checked_before_decoding():
    # A 20000 x 20000 PNG of one colour is small on disk, 400 M pixels decoded.
    bomb = image_bytes((20000, 20000), "PNG", (0, 0, 0))
    assert len(bomb) < 2_000_000
    with pytest.raises(CoverError, match="more than"):
        make_thumbnails(bomb, max_pixels=25_000_000)


def test_nightly_job_fills_a_missing_cover_once(files, settings):
    files.files["/bfs/archive/x.jpg"] = image_bytes()
    video = VideoNoteFactory()
    url = f"{files.root_url}/bfs/archive/x.jpg"
    assert cover_fill_from_url(video, url)
    assert video.cover_thumb is not None
    assert not cover_fill_from_url(video, url)  # has one: nothing fetched
    assert len(files.calls_to("/bfs/archive/x.jpg")) == 1
    files.files["/bfs/archive/y.jpg"] = b"<html>"
    other = VideoNoteFactory()
    assert not cover_fill_from_url(other, f"{files.root_url}/bfs/archive/y.jpg")
    assert other.cover_thumb is None


def test_import_command_fetches_covers_and_warns(files):
    out, err = StringIO(), StringIO()
    url = f"{files.root_url}/repo/README.md"
    call_command("import_readme", url, stdout=out, stderr=err)
    assert "covers: 2 stored, 0 unchanged, 4 failed" in out.getvalue()
    assert "line 9: cover imgs/gone.jpg: HTTP 404" in err.getvalue()
    out = StringIO()
    call_command("import_readme", url, "--no-covers", stdout=out, stderr=StringIO())
    assert "covers" not in out.getvalue()
