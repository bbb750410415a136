"""Old slugs that redirect to new ones, and the re-slug of papers whose Chinese
names got an id slug (s2-2c0e044088, arxiv-1706-03762, paper-3): they get the pinyin
of their names (can-shu-fu-wu-qi), each old slug kept as a redirect (301)."""

import re

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify
from pypinyin import lazy_pinyin

# What the old paper_slug_base gave a name that slugify() reduced to nothing.
ID_SLUG_RE = re.compile(r"(s2-[0-9a-f]{10}|arxiv-[a-z0-9-]+|paper)(-[0-9]+)?")
MAX_LENGTH = 80


def pinyin_base(name):
    base = slugify(" ".join(lazy_pinyin(name)))
    if len(base) > MAX_LENGTH:
        base = base[: MAX_LENGTH + 1].rsplit("-", 1)[0].strip("-")
    return base


def reslug(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    PaperSlugRedirect = apps.get_model("papers", "PaperSlugRedirect")
    taken = set(Paper.objects.values_list("slug", flat=True))
    for paper in Paper.objects.order_by("pk"):
        if slugify(paper.name) or not ID_SLUG_RE.fullmatch(paper.slug):
            continue  # an ASCII name, or a slug a curator chose: left as it is
        base = pinyin_base(paper.name)
        if not base:
            continue
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        PaperSlugRedirect.objects.create(old_slug=paper.slug, paper=paper)
        taken.add(slug)
        Paper.objects.filter(pk=paper.pk).update(slug=slug)


def restore(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    PaperSlugRedirect = apps.get_model("papers", "PaperSlugRedirect")
    for redirect in PaperSlugRedirect.objects.all():
        Paper.objects.filter(pk=redirect.paper_id).update(slug=redirect.old_slug)


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0008_learning_paths"),
    ]

    operations = [
        migrations.CreateModel(
            name="PaperSlugRedirect",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "old_slug",
                    models.SlugField(
                        max_length=200, unique=True, verbose_name="旧 URL 标识"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="创建于"),
                ),
                (
                    "paper",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="slug_redirects",
                        to="papers.paper",
                        verbose_name="论文",
                    ),
                ),
            ],
            options={
                "verbose_name": "旧链接跳转",
                "verbose_name_plural": "旧链接跳转",
                "ordering": ["old_slug"],
            },
        ),
        migrations.RunPython(reslug, restore),
    ]
