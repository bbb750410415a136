"""Atom feeds: new papers, new videos, new papers in one category, a path's steps.

Every text that comes from the database goes through ``xml_safe``: a control
character in a stored row (the README is read from upstream) must not turn every
feed into a 500, which is what Django's XML writer does with one.
"""

from __future__ import annotations

import datetime as dt
import html

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from papers import selectors, selectors_paths
from papers.markup import render_inline, render_markdown
from papers.models import Category, LearningPath
from papers.plain_text import xml_safe


def _plain_inline(markdown: str) -> str:
    """The text a reader sees of one line of markdown: no links, no ``\\[``."""
    return html.unescape(strip_tags(render_inline(markdown))).strip()


class LatestPapersFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return _("深度学习论文精读：新加入的论文")

    def subtitle(self):
        return _("值得精读的深度学习论文，新加入的在前。")

    def link(self):
        return reverse("papers:home")

    def feed_url(self):
        return reverse("papers:papers_feed")

    def items(self):
        return selectors.latest_papers()

    def item_title(self, paper):
        name = xml_safe(paper.name)
        return f"{name} ({paper.year})" if paper.year else name

    def item_description(self, paper):
        return xml_safe(
            " — ".join(part for part in (paper.title, paper.summary) if part)
        )

    def item_pubdate(self, paper):
        return paper.created_at

    def item_updateddate(self, paper):
        return paper.updated_at


class CategoryPapersFeed(LatestPapersFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Category, slug=slug)

    def title(self, category):
        return _("深度学习论文精读：%(category)s") % {
            "category": xml_safe(category.display_name)
        }

    def subtitle(self, category):
        return xml_safe(category.description) or self.title(category)

    def link(self, category):
        return category.get_absolute_url()

    def feed_url(self, category):
        return reverse("papers:category_feed", args=[category.slug])

    def items(self, category):
        return selectors.latest_papers(category=category)


class LatestVideosFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return _("深度学习论文精读：新视频")

    def subtitle(self):
        return _("论文精读视频，最新发布的在前。")

    def link(self):
        return reverse("papers:videos")

    def feed_url(self):
        return reverse("papers:videos_feed")

    def items(self):
        return selectors.latest_videos()

    def item_title(self, video):
        return xml_safe(_plain_inline(video.title))

    def item_description(self, video):
        return xml_safe(render_inline(video.title) + render_markdown(video.notes))

    def item_pubdate(self, video):
        # Videos carry a date only: midnight in the site's time zone.
        return timezone.make_aware(dt.datetime.combine(video.published_on, dt.time()))

    def item_updateddate(self, video):
        return video.updated_at


class PathStepsFeed(Feed):
    """One learning path, its steps in path order (a feed reader shows each new
    step once)."""

    feed_type = Atom1Feed

    def get_object(self, request, slug):
        return get_object_or_404(LearningPath, slug=slug)

    def title(self, path):
        return _("深度学习论文精读 · 学习路线：%(path)s") % {
            "path": xml_safe(path.display_title)
        }

    def subtitle(self, path):
        text = _plain_markdown(path.display_description)
        return xml_safe(text) or self.title(path)

    def link(self, path):
        return path.get_absolute_url()

    def feed_url(self, path):
        return reverse("papers:path_feed", args=[path.slug])

    def items(self, path):
        return selectors_paths.latest_path_steps(path=path)

    def item_title(self, step):
        return xml_safe(step.display_title)

    def item_description(self, step):
        return xml_safe(step.display_note)

    def item_link(self, step):
        return step.get_absolute_url()

    def item_guid(self, step):
        return f"{step.path.get_absolute_url()}#step-{step.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, step):
        return step.created_at

    def item_updateddate(self, step):
        return step.updated_at


def _plain_markdown(markdown: str) -> str:
    return html.unescape(strip_tags(render_markdown(markdown))).strip()
