"""Learning paths (issue 14): the model, the admin, /paths/, a paper's place on its
paths, what to read next, load_paths, the feed and the sitemap."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from papers.models import LearningPath, PaperLink, PathStep
from papers.services import readme_import
from papers.services.paths import (
    STARTER_PATHS,
    PathsFileError,
    path_step_add,
    paths_load,
    paths_parse,
)
from tests.conftest import SEED_LIST
from tests.factories import (
    LearningPathFactory,
    PaperFactory,
    PathStepFactory,
    PlacementFactory,
    VideoNoteFactory,
)
from tests.test_views import MAX_QUERIES

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def video_key(video) -> str:
    """What data-video holds: the video's slug where videos have one."""
    return str(getattr(video, "slug", "") or video.pk)


def steps_of(path):
    return list(path.steps.order_by("position", "id"))


# --- Model -----------------------------------------------------------------------


@pytest.mark.parametrize("both", [True, False], ids=["paper-and-video", "neither"])
def test_a_step_is_exactly_one_paper_or_one_video(both):
    path = LearningPathFactory()
    step = PathStep(
        path=path,
        position=0,
        paper=PaperFactory() if both else None,
        video=VideoNoteFactory() if both else None,
    )
    with pytest.raises(ValidationError, match="二选一"):
        step.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        step.save()
    assert not PathStep.objects.exists()


def test_steps_are_ordered_by_position():
    path = LearningPathFactory()
    third = PathStepFactory(path=path, position=7)
    first = PathStepFactory(path=path, position=1)
    second = PathStepFactory(
        path=path, paper=None, video=VideoNoteFactory(), position=3
    )
    assert steps_of(path) == [first, second, third]
    assert list(path.steps.all()) == [first, second, third]


def test_a_new_step_goes_to_the_end_unless_a_position_is_given():
    path = LearningPathFactory()
    first = path_step_add(path=path, paper=PaperFactory())
    second = path_step_add(path=path, video=VideoNoteFactory())
    in_front = path_step_add(path=path, paper=PaperFactory(), position=0)
    last = path_step_add(path=path, paper=PaperFactory())
    assert (first.position, second.position, last.position) == (0, 1, 2)
    assert steps_of(path)[0] == first and in_front.position == 0
    assert steps_of(path)[-1] == last


def test_the_same_paper_twice_on_a_path_is_refused():
    step = PathStepFactory()
    with pytest.raises(ValidationError, match="已经在这条路线上"):
        path_step_add(path=step.path, paper=step.paper)


# --- Admin -----------------------------------------------------------------------


def path_form(**overrides):
    data = {
        "title": "注意力",
        "title_en": "Attention",
        "slug": "attention",
        "position": "0",
        "description": "从 **Transformer** 开始。",
        "description_en": "",
        "steps-TOTAL_FORMS": "0",
        "steps-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def step_fields(index, *, pk="", paper="", video="", position="", note=""):
    prefix = f"steps-{index}-"
    return {
        prefix + "id": pk,
        prefix + "position": position,
        prefix + "paper": paper,
        prefix + "video": video,
        prefix + "title": "",
        prefix + "note": note,
        prefix + "note_en": "",
    }


def test_admin_path_page_has_the_steps_inline_with_autocomplete(admin_client):
    html = admin_client.get(reverse("admin:papers_learningpath_add")).content.decode()
    assert 'id="steps-group"' in html
    for field in ("paper", "video"):
        select = re.search(rf'<select name="steps-0-{field}"[^>]*>', html).group(0)
        assert "admin-autocomplete" in select
        assert 'data-ajax--url="/admin/autocomplete/"' in select
    assert 'name="steps-0-position"' in html
    # The autocomplete answers with papers.
    PaperFactory(name="Transformer")
    answer = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "Trans",
            "app_label": "papers",
            "model_name": "pathstep",
            "field_name": "paper",
        },
    ).json()
    assert [r["text"] for r in answer["results"]] == ["Transformer"]


def test_curator_adds_steps_and_a_new_one_goes_last(admin_client):
    transformer, bert, gpt = (
        PaperFactory(name=n) for n in ("Transformer", "BERT", "GPT")
    )
    video = VideoNoteFactory()
    data = path_form(
        **{"steps-TOTAL_FORMS": "3"},
        **step_fields(0, paper=transformer.pk, note="起点"),
        **step_fields(1, video=video.pk),
        **step_fields(2, paper=bert.pk),
    )
    response = admin_client.post(reverse("admin:papers_learningpath_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    path = LearningPath.objects.get(slug="attention")
    assert [s.item for s in steps_of(path)] == [transformer, video, bert]
    assert [s.position for s in steps_of(path)] == [0, 1, 2]

    existing = steps_of(path)
    data = path_form(
        **{"steps-TOTAL_FORMS": "5", "steps-INITIAL_FORMS": "3"},
        **{
            k: v
            for i, s in enumerate(existing)
            for k, v in step_fields(
                i,
                pk=s.pk,
                paper=s.paper_id or "",
                video=s.video_id or "",
                position=s.position,
                note=s.note,
            ).items()
        },
        **step_fields(3, paper=gpt.pk),  # no position: goes last
        **step_fields(4, paper=PaperFactory(name="ViT").pk, position="0"),
    )
    response = admin_client.post(
        reverse("admin:papers_learningpath_change", args=[path.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # ViT asked for position 0 (ties keep the older step first); GPT went last.
    assert [s.display_title for s in steps_of(path)] == [
        "Transformer",
        "ViT",
        video.plain_title,
        "BERT",
        "GPT",
    ]


def test_admin_refuses_a_step_with_both_a_paper_and_a_video(admin_client):
    data = path_form(
        **{"steps-TOTAL_FORMS": "1"},
        **step_fields(0, paper=PaperFactory().pk, video=VideoNoteFactory().pk),
    )
    response = admin_client.post(reverse("admin:papers_learningpath_add"), data)
    assert response.status_code == 200
    assert "每一步只能是一篇论文或一个视频（二选一）。" in response.content.decode()
    assert not LearningPath.objects.exists()


# --- Pages -----------------------------------------------------------------------


@pytest.fixture
def attention():
    """A path of a paper with two videos, a video step, and a paper covered by that
    video step too: 3 steps, 3 distinct videos."""
    path = LearningPathFactory(
        title="注意力",
        title_en="Attention",
        slug="attention",
        description="先读 *它*。",
    )
    transformer = PaperFactory(name="Transformer", slug="transformer")
    bert = PaperFactory(name="BERT", slug="bert")
    short = VideoNoteFactory(duration=dt.timedelta(minutes=10))
    long = VideoNoteFactory(duration=dt.timedelta(hours=1))
    step_video = VideoNoteFactory(
        title="InstructGPT 精读", duration=dt.timedelta(minutes=5)
    )
    short.papers.add(transformer)
    long.papers.add(transformer)
    step_video.papers.add(bert)
    PathStepFactory(
        path=path, paper=transformer, position=0, note="起点", note_en="Start"
    )
    PathStepFactory(path=path, paper=None, video=step_video, position=1, note="指令")
    PathStepFactory(path=path, paper=bert, position=2, note="双向")
    return path


def test_paths_page_lists_paths_in_order_with_length_and_video_time(client, attention):
    LearningPathFactory(title="后面的路线", position=attention.position + 1)
    html = client.get("/paths/").content.decode()
    assert html.index("注意力") < html.index("后面的路线")
    card = re.search(r'<article class="path-card".*?</article>', html, re.S).group(0)
    assert 'data-progress-scope data-path="attention" data-total="3"' in card
    assert "3 步" in card
    # 10 min + 1 h + 5 min, the step video counted once though it covers BERT.
    assert (
        "3 个精读视频" in card and '<time datetime="PT1H15M0S">1:15:00</time>' in card
    )
    assert "每个视频只算一次" in html
    assert 'data-paper="transformer"' in card and 'data-paper="bert"' in card


def test_path_page_shows_the_steps_in_order_with_notes_and_links(client, attention):
    response = client.get("/paths/attention/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<em>它</em>" in html  # the description is markdown
    scope = re.search(r"<div class=\"path-steps\"[^>]*>", html).group(0)
    assert "data-progress-scope" in scope and 'data-total="3"' in scope
    items = re.findall(
        r'<li class="path-step" id="step-\d+" data-(\w+)="([^"]+)"', html
    )
    video = attention.steps.get(position=1).video
    assert items == [
        ("paper", "transformer"),
        ("video", video_key(video)),
        ("paper", "bert"),
    ]
    assert html.index("起点") < html.index("指令") < html.index("双向")
    assert 'href="/papers/transformer/"' in html
    assert f'href="{video.get_absolute_url()}"' in html
    assert "第 2 步" in html


def test_path_page_in_english(client, attention):
    html = client.get("/paths/attention/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Attention</h1>" in html and "Start" in html and "Step 1" in html
    # No English note: the Chinese one rather than nothing.
    assert "双向" in html


@pytest.mark.parametrize(
    "url", ["/paths/no-such-path/", "/feeds/paths/no-such-path/", "/paths/Not A Slug/"]
)
def test_unknown_paths_are_404(client, url):
    assert client.get(url).status_code == 404


def test_empty_states(client):
    assert "还没有学习路线。" in client.get("/paths/").content.decode()
    LearningPathFactory(slug="empty")
    assert "这条路线还没有步骤。" in client.get("/paths/empty/").content.decode()


def test_cached_path_page_follows_a_save(client, attention):
    assert "起点" in client.get("/paths/attention/").content.decode()
    step = attention.steps.get(position=0)
    step.note = "新的说明"
    step.save()
    html = client.get("/paths/attention/").content.decode()
    assert "新的说明" in html and "起点" not in html
    attention.steps.filter(pk=step.pk).get().delete()
    assert 'data-total="2"' in client.get("/paths/attention/").content.decode()


def test_header_links_to_paths(client):
    html = client.get("/paths/").content.decode()
    assert re.search(r'<a href="/paths/" aria-current="page">学习路线</a>', html)


@pytest.mark.parametrize("size", [5, 200])
def test_path_pages_run_a_constant_number_of_queries(
    client, size, django_assert_num_queries
):
    path = LearningPathFactory(slug="long")
    for index in range(size):
        if index % 5 == 4:
            PathStepFactory(path=path, paper=None, video=VideoNoteFactory())
        else:
            step = PathStepFactory(path=path)
            VideoNoteFactory().papers.add(step.paper)
    LearningPathFactory()  # an empty one beside it
    # path(s), steps with papers and videos, the papers' videos, last refresh
    with django_assert_num_queries(4):
        assert client.get("/paths/long/").status_code == 200
    with django_assert_num_queries(4):
        assert client.get("/paths/").status_code == 200
    paper = path.steps.filter(paper__isnull=False).order_by("-position")[1].paper
    PlacementFactory(paper=paper)
    # The paper page's own budget, the same with its place on a 5- or 200-step path.
    with django_assert_num_queries(MAX_QUERIES["paper"]):
        assert client.get(paper.get_absolute_url()).status_code == 200


# --- Paper page: place on the path, what to read next ----------------------------


def test_paper_page_says_which_step_of_the_path_it_is(client):
    path = LearningPathFactory(title="视觉", slug="vision")
    steps = [PathStepFactory(path=path, position=i) for i in range(7)]
    other = LearningPathFactory(title="另一条", slug="other")
    PathStepFactory(path=other, paper=steps[2].paper, position=0)
    PathStepFactory(path=other, paper=None, video=VideoNoteFactory(), position=1)
    html = client.get(steps[2].paper.get_absolute_url()).content.decode()
    section = re.search(r'<section class="read-next.*?</section>', html, re.S).group(0)
    assert "路线《视觉》第 3 / 7 步" in section
    assert "路线《另一条》第 1 / 2 步" in section
    vision = re.search(r'aria-label="学习路线《视觉》".*?</nav>', section, re.S).group(
        0
    )
    for step, rel in ((steps[1], "prev"), (steps[3], "next")):
        paper = step.paper
        link = f'<a href="{paper.get_absolute_url()}" rel="{rel}">'
        assert f'data-paper="{paper.slug}">{link}' in vision
    assert 'rel="prev"' not in section.split("另一条")[-1]
    # The first step has no previous one, the last no next.
    first = client.get(steps[0].paper.get_absolute_url()).content.decode()
    assert "第 1 / 7 步" in first and "上一步" not in first
    last = client.get(steps[6].paper.get_absolute_url()).content.decode()
    assert "第 7 / 7 步" in last and "下一步" not in last


def test_a_paper_on_no_path_and_without_links_has_no_read_next_section(client):
    paper = PaperFactory()
    html = client.get(paper.get_absolute_url()).content.decode()
    assert "接下来读什么" not in html and "read-next" not in html


def test_read_next_lists_papers_of_the_list_that_cite_it_and_that_it_cites(client):
    paper, citing, cited = (
        PaperFactory(name="BERT"),
        PaperFactory(name="GPT-2"),
        PaperFactory(name="Transformer"),
    )
    PaperLink.objects.create(citing=citing, cited=paper)
    PaperLink.objects.create(citing=paper, cited=cited)
    html = client.get(paper.get_absolute_url()).content.decode()
    section = re.search(r'<section class="read-next.*?</section>', html, re.S).group(0)
    builds_on, built_upon_by = section.split("被这些论文引用")
    assert "在本列表中" in builds_on and "建立在这些论文之上" in builds_on
    assert "GPT-2" in built_upon_by and "Transformer" not in built_upon_by
    assert f'data-paper="{cited.slug}"' in builds_on
    assert "路线《" not in section  # on no path: that part is left out


# --- load_paths ------------------------------------------------------------------


@pytest.fixture
def seed_list():
    """Our shipped seed list: Transformer, GPT, BERT, GPT-2, GPT-3 and a few more."""
    readme_import(text=SEED_LIST.read_text(encoding="utf-8"))


def load(*args) -> list[str]:
    out = StringIO()
    call_command("load_paths", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_shipped_paths_file_has_four_paths_with_notes():
    specs = paths_parse(STARTER_PATHS.read_text(encoding="utf-8"))
    assert [s.slug for s in specs] == [
        "transformer-family",
        "vision-cnn-to-vit-clip",
        "generative-models",
        "multimodal",
    ]
    for spec in specs:
        assert spec.title and spec.title_en and len(spec.steps) >= 5
        assert all(step.note and step.note_en for step in spec.steps)


def test_load_paths_loads_what_is_there_and_warns_about_the_rest(seed_list):
    lines = load()
    path = LearningPath.objects.get(slug="transformer-family")
    assert [s.paper.name for s in steps_of(path)] == [
        "Transformer", "GPT", "BERT", "GPT-2", "GPT-3",
    ]  # fmt: skip
    assert steps_of(path)[0].note.startswith("一切的起点")
    assert "paths: created transformer-family (5 of 8 steps)" in lines
    assert any(
        "transformer-family: skipped step video 'Instruct GPT', not in the database"
        in line
        for line in lines
    )
    assert any("multimodal: not created" in line for line in lines)
    assert LearningPath.objects.count() == 1


def test_load_paths_twice_changes_nothing(seed_list):
    load()
    before = list(PathStep.objects.values_list("pk", "path_id", "paper_id", "position"))
    lines = load()
    assert "paths: kept transformer-family (already exists, left as it is)" in lines
    assert (
        list(PathStep.objects.values_list("pk", "path_id", "paper_id", "position"))
        == before
    )
    assert LearningPath.objects.count() == 1


def test_load_paths_never_overwrites_a_curators_path(seed_list):
    mine = LearningPathFactory(slug="transformer-family", title="我的路线")
    PathStepFactory(path=mine, note="我的第一步")
    load()
    mine.refresh_from_db()
    assert mine.title == "我的路线"
    assert [s.note for s in steps_of(mine)] == ["我的第一步"]
    assert LearningPath.objects.filter(slug="transformer-family").count() == 1


def test_load_paths_finds_videos_and_papers_by_name(tmp_path):
    video = VideoNoteFactory(
        title="[Instruct GPT](https://arxiv.org/pdf/2203.02155.pdf)"
    )
    alexnet = PaperFactory(name="AlexNet", arxiv_id="")
    file = tmp_path / "paths.toml"
    file.write_text(
        '[[path]]\nslug = "p"\ntitle = "路线"\n'
        '[[path.steps]]\nname = "alexnet"\nnote = "一"\n'
        '[[path.steps]]\nvideo = "Instruct GPT"\nnote = "二"\n',
        encoding="utf-8",
    )
    assert "paths: created p (2 of 2 steps)" in load(str(file))
    assert [s.item for s in steps_of(LearningPath.objects.get())] == [alexnet, video]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[path]\n", "not valid TOML"),
        ('[[path]]\nslug = "p"\n', "slug and title are required"),
        (
            '[[path]]\nslug = "p"\ntitle = "t"\ncolour = "red"\n',
            "unknown key(s) colour",
        ),
        (
            '[[path]]\nslug = "p"\ntitle = "t"\n'
            '[[path.steps]]\nname = "A"\nvideo = "B"\n',
            "not both",
        ),
        (
            '[[path]]\nslug = "not a slug"\ntitle = "t"\n[[path.steps]]\nname = "A"\n',
            "slug",
        ),
    ],
)
def test_a_malformed_paths_file_is_refused_and_writes_nothing(tmp_path, text, message):
    PaperFactory(name="A")
    file = tmp_path / "paths.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape(message)):
        load(str(file))
    assert not LearningPath.objects.exists() and not PathStep.objects.exists()


def test_a_missing_paths_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        load(str(tmp_path / "nowhere.toml"))


def test_paths_load_raises_on_bad_text_without_writing():
    with pytest.raises(PathsFileError):
        paths_load(text="path = 3")
    assert not LearningPath.objects.exists()


# --- Feed and sitemap ------------------------------------------------------------


def test_path_feed_is_atom_with_the_steps_in_order(client, attention):
    response = client.get("/feeds/paths/attention/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert "注意力" in feed.findtext(f"{ATOM}title")
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Transformer",
        "InstructGPT 精读",
        "BERT",
    ]
    assert entries[0].find(f"{ATOM}link").get("href").endswith("/papers/transformer/")
    assert entries[0].findtext(f"{ATOM}summary") == "起点"
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 3
    page = client.get("/paths/attention/").content.decode()
    assert 'href="/feeds/paths/attention/"' in page


def test_path_feed_survives_control_characters(client, attention):
    LearningPath.objects.filter(pk=attention.pk).update(title="注意\x0b力")
    PathStep.objects.filter(path=attention).update(note="坏\x0b字符")
    response = client.get("/feeds/paths/attention/")
    assert response.status_code == 200
    ET.fromstring(response.content)


def test_sitemap_lists_the_paths(client, attention):
    root = ET.fromstring(client.get("/sitemap.xml").content)
    locations = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert any(loc.endswith("/paths/") for loc in locations)
    assert any(loc.endswith("/paths/attention/") for loc in locations)


def test_first_start_loads_the_starter_paths_once(settings, seed_list):
    settings.READINGLIST_SOURCE_URL = ""
    out = StringIO()
    call_command("first_start", stdout=out)
    assert "loaded the starter learning paths transformer-family (5 of 8 steps)" in (
        out.getvalue()
    )
    # A curator replaces it with their own: the next start does not bring it back.
    LearningPath.objects.get().delete()
    LearningPathFactory(slug="mine")
    out = StringIO()
    call_command("first_start", stdout=out)
    assert list(LearningPath.objects.values_list("slug", flat=True)) == ["mine"]
    assert "learning paths" not in out.getvalue()
