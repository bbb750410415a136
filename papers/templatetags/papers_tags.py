"""Filters and tags for the public pages: formatting, plus the footer's one read of
the last refresh (through a selector)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from papers import identifiers, selectors
from papers.markup import render_inline, render_markdown

register = template.Library()

# The chart's drawing box, in SVG user units; the CSS scales it to the column width.
CHART_WIDTH = 320
CHART_HEIGHT = 120
CHART_PAD_LEFT = 8
CHART_PAD_RIGHT = 8
CHART_PAD_TOP = 18
CHART_PAD_BOTTOM = 22
CHART_MAX_POINTS = 60


@register.filter
def citations(value):
    """12345 → "12,345" in every language (zh-hans groups nothing by default)."""
    if value is None:
        return "–"
    return intcomma(value, use_l10n=False)


@register.filter
def updated_ago(value, now=None):
    """ "3天前更新" / "updated 3 days ago"."""
    if not value:
        return ""
    return _("%(since)s前更新") % {"since": timesince(value, now, depth=1)}


def _hms(value: dt.timedelta) -> tuple[int, int, int]:
    hours, rest = divmod(int(value.total_seconds()), 3600)
    return (hours, *divmod(rest, 60))


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """A video length as 1:27:05 or 45:12, as the README writes it."""
    if value is None:
        return ""
    hours, minutes, seconds = _hms(value)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


@register.filter
def iso_duration(value: dt.timedelta | None) -> str:
    """A video length for <time datetime>: PT1H27M5S."""
    if value is None:
        return ""
    hours, minutes, seconds = _hms(value)
    return f"PT{hours}H{minutes}M{seconds}S"


@register.filter
def inline_markdown(text: str) -> str:
    """A video title such as ``[GPT](url) 精读`` as sanitised inline HTML."""
    return mark_safe(render_inline(text))  # nh3 has cleaned it


@register.filter
def markdown(text: str) -> str:
    """Curator notes as sanitised HTML."""
    return mark_safe(render_markdown(text))  # nh3 has cleaned it


def _embed_url(video_id: str, player: str) -> str:
    return player.format(video_id) if video_id else ""


@register.filter
def bilibili_embed_url(url: str) -> str:
    return _embed_url(
        identifiers.bilibili_bvid(url),
        "https://player.bilibili.com/player.html?bvid={}&autoplay=0",
    )


@register.filter
def youtube_embed_url(url: str) -> str:
    return _embed_url(
        identifiers.youtube_id(url), "https://www.youtube-nocookie.com/embed/{}"
    )


@register.simple_tag
def last_refresh():
    """The latest successful citation refresh, for the footer (one query)."""
    return selectors.last_refresh()


@register.simple_tag
def paper_rows(papers, show_categories=False, citations_missing=False):
    """The ``<tr>`` rows of a paper table (templates/papers/_paper_table.html).

    Built with format_html rather than a template loop because the home page draws
    every paper: at 2,000 papers the template loop alone took ~400 ms and this takes
    a tenth of that (tests/bench/bench_pages.py). Every value is escaped.
    """
    recorded = _("已录制")
    original = _("论文原文")
    no_count = _("暂无引用数")
    updated = _("更新于")
    # The phone's card layout hides the table header, so the count names itself
    # (site.css shows this label only there).
    label = format_html('<span class="cell-label">{}</span>', _("引用"))
    # Before the first refresh every cell says why it is empty, not just "–".
    missing = _("尚未获取") if citations_missing else "–"
    # One reverse() for the whole table: slugs are [-a-zA-Z0-9_], so the pattern
    # puts them in the URL as they are.
    paper_url = reverse("papers:paper", args=["slug-placeholder"])
    # The nightly refresh updates most counts within minutes of each other, so the
    # "3 days ago" texts repeat: work each out once per minute of age.
    now = timezone.now()
    ages = {}
    rows = []
    for paper in papers:
        mark = (
            format_html(
                '<span role="img" aria-label="{0}" title="{0}">✅</span>', recorded
            )
            if paper.is_recorded
            else ""
        )
        name = format_html(
            '<a href="{}">{}</a>',
            paper_url.replace("slug-placeholder", paper.slug),
            paper.name,
        )
        if paper.url:
            name += format_html(
                ' <a class="external" href="{0}" rel="noopener" title="{1}" '
                'aria-label="{1}">↗</a>',
                paper.url,
                original,
            )
        if show_categories and getattr(paper, "category_list", None):
            name += format_html(
                '<small class="paper-categories">{}</small>',
                format_html_join(
                    " · ",
                    '<a href="{}">{}</a>',
                    (
                        (category.get_absolute_url(), category.display_name)
                        for category in paper.category_list
                    ),
                ),
            )
        if paper.citation_count is None:
            count = format_html(
                '<td class="col-citations">{0}'
                '<span class="no-count" title="{1}" aria-label="{1}">{2}</span></td>',
                label,
                no_count,
                missing,
            )
        elif paper.citations_updated_at:
            when = timezone.localtime(paper.citations_updated_at)
            minute = int((now - when).total_seconds() // 60)
            if minute not in ages:
                ages[minute] = updated_ago(when, now)
            count = format_html(
                '<td class="col-citations">{}<data value="{}" title="{} {}">{}</data>'
                '<small class="updated">{}</small></td>',
                label,
                paper.citation_count,
                updated,
                when.strftime("%Y-%m-%d %H:%M"),
                citations(paper.citation_count),
                ages[minute],
            )
        else:
            count = format_html(
                '<td class="col-citations">{}<data value="{}">{}</data></td>',
                label,
                paper.citation_count,
                citations(paper.citation_count),
            )
        rows.append(
            format_html(
                '<tr data-paper="{}"><td class="col-recorded">{}</td>'
                '<td class="col-year">{}</td>'
                '<td class="col-name">{}</td><td class="col-summary">{}</td>{}</tr>\n',
                paper.slug,
                mark,
                paper.year or "",
                name,
                paper.summary,
                count,
            )
        )
    if not rows:
        return format_html(
            '<tr><td colspan="5" class="empty">{}</td></tr>', _("没有符合条件的论文。")
        )
    return mark_safe("".join(rows))  # each row is format_html output


def _thin(snapshots: list, limit: int) -> list:
    """At most ``limit`` snapshots, evenly spread, always keeping the last one."""
    if len(snapshots) <= limit:
        return list(snapshots)
    step = (len(snapshots) - 1) / (limit - 1)
    return [snapshots[round(i * step)] for i in range(limit)]


@register.inclusion_tag("papers/_citation_chart.html")
def citation_chart(snapshots) -> dict:
    """A line chart of citation counts over time, drawn as inline SVG.

    ``snapshots`` are CitationSnapshot rows in time order (prefetched by the
    selector). With fewer than two there is no line to draw: the template says so.
    """
    points = _thin(list(snapshots), CHART_MAX_POINTS)
    context = {"snapshots": points, "enough": len(points) >= 2}
    if not context["enough"]:
        return context

    first, last = points[0].fetched_at, points[-1].fetched_at
    span = (last - first).total_seconds() or 1.0
    low = min(p.count for p in points)
    high = max(p.count for p in points)
    rise = (high - low) or 1
    inner_w = CHART_WIDTH - CHART_PAD_LEFT - CHART_PAD_RIGHT
    inner_h = CHART_HEIGHT - CHART_PAD_TOP - CHART_PAD_BOTTOM
    bottom = CHART_HEIGHT - CHART_PAD_BOTTOM

    coords = []
    for snapshot in points:
        elapsed = (snapshot.fetched_at - first).total_seconds()
        x = CHART_PAD_LEFT + elapsed / span * inner_w
        y = bottom - (snapshot.count - low) / rise * inner_h
        coords.append((round(x, 1), round(y, 1)))
    first_local = timezone.localtime(first)
    last_local = timezone.localtime(last)
    context.update(
        {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "polyline": " ".join(f"{x},{y}" for x, y in coords),
            "last_point": coords[-1],
            "low": low,
            "high": high,
            "first_date": first_local.date(),
            "last_date": last_local.date(),
            "first_count": points[0].count,
            "last_count": points[-1].count,
            "axis_y": bottom,
            "axis_x0": CHART_PAD_LEFT,
            "axis_x1": CHART_WIDTH - CHART_PAD_RIGHT,
            "label_y": CHART_HEIGHT - 6,
            "top_label_y": CHART_PAD_TOP - 6,
        }
    )
    return context


# Paper details (issue 13) -------------------------------------------------------------

AUTHORS_SHOWN = 3  # the first few names; more than AUTHORS_SHOWN + 1 become "等 N 人"


@register.inclusion_tag("papers/_authors.html")
def author_line(authors) -> dict:
    """The first few authors and how many there are in all."""
    names = [a.get("name") for a in authors or () if isinstance(a, dict)]
    names = [name for name in names if name]
    shown = names if len(names) <= AUTHORS_SHOWN + 1 else names[:AUTHORS_SHOWN]
    return {"shown": shown, "total": len(names), "more": len(names) > len(shown)}


def _yearly_rows(yearly) -> list[tuple[int, int]]:
    """OpenAlex's years in order, with the years it leaves out (no citations) as 0."""
    counts = {}
    for row in yearly or ():
        if isinstance(row, dict):
            year, count = row.get("year"), row.get("count")
            if isinstance(year, int) and isinstance(count, int) and count >= 0:
                counts[year] = count
    if not counts:
        return []
    return [(year, counts.get(year, 0)) for year in range(min(counts), max(counts) + 1)]


@register.inclusion_tag("papers/_yearly_citations_chart.html")
def yearly_citations_chart(yearly, fetched_at=None) -> dict:
    """Citations per year from OpenAlex as a bar chart, drawn as inline SVG."""
    rows = _yearly_rows(yearly)
    context = {"rows": rows, "fetched_at": fetched_at}
    if not rows:
        return context
    high = max(count for _, count in rows) or 1
    inner_w = CHART_WIDTH - CHART_PAD_LEFT - CHART_PAD_RIGHT
    inner_h = CHART_HEIGHT - CHART_PAD_TOP - CHART_PAD_BOTTOM
    bottom = CHART_HEIGHT - CHART_PAD_BOTTOM
    step = inner_w / len(rows)
    bars = []
    for index, (year, count) in enumerate(rows):
        height = round(count / high * inner_h, 1)
        bars.append(
            {
                "year": year,
                "count": count,
                "x": round(CHART_PAD_LEFT + index * step + step * 0.15, 1),
                "y": round(bottom - height, 1),
                "width": round(step * 0.7, 1),
                "height": height,
                "label_x": round(CHART_PAD_LEFT + index * step + step / 2, 1),
            }
        )
    peak = max(rows, key=lambda row: row[1])
    context.update(
        {
            "bars": bars,
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "high": high,
            "first_year": rows[0][0],
            "last_year": rows[-1][0],
            "peak_year": peak[0],
            "peak_count": peak[1],
            "axis_y": bottom,
            "axis_x0": CHART_PAD_LEFT,
            "axis_x1": CHART_WIDTH - CHART_PAD_RIGHT,
            "label_y": CHART_HEIGHT - 6,
            "top_label_y": CHART_PAD_TOP - 6,
            # Every year's label would crowd: label the first, the last and
            # every few in between.
            "label_every": max(1, (len(rows) + 5) // 6),
        }
    )
    return context
