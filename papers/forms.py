"""Public forms: what readers may type, cleaned into plain, bounded text."""

import re
from urllib.parse import quote

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from papers import identifiers
from papers.identifiers import request_key
from papers.models import ReadingRequest
from papers.models.reading_requests import validate_no_html
from papers.plain_text import clean_line, clean_paragraphs

# Characters a valid URL never contains unescaped (RFC 3986 §2): refusing them keeps
# quotes and angle brackets out of every href we render.
_URL_FORBIDDEN_RE = re.compile(r"[\s<>\"'`\\{}|^\x00-\x1f\x7f]")
_S2_PAGE = "https://www.semanticscholar.org/paper/{}"
# A link without its scheme: a host name ending in a letters-only top-level domain,
# then a path, a query or nothing ("arxiv.org/abs/1706.03762"). Ids are tried first:
# a bare arXiv id or DOI is not a host name.
_SCHEMELESS_LINK_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?::[0-9]{1,5})?(?:[/?#]|\Z)",
    re.IGNORECASE,
)


def paper_url_from_input(value: str) -> str:
    """An http(s) URL for what a reader pasted, or "" when it is not one.

    Besides links, bare identifiers are accepted and turned into their canonical page:
    ``arXiv:1706.03762``, ``2401.12345v2``, ``cs/0112017``,
    ``10.1145/3292500.3330701`` (or ``doi:…``) and a 40-hex Semantic Scholar id. A
    link pasted without its scheme (``arxiv.org/abs/…``, ``huggingface.co/papers/…``)
    is read as https.
    """
    value = value.strip()
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
        url = value
    elif arxiv_id := identifiers.normalise_arxiv_id(value):
        url = f"https://arxiv.org/abs/{arxiv_id}"
    elif doi := identifiers.doi_from_text(value):
        url = "https://doi.org/" + quote(doi, safe="/:;()._-")
    elif identifiers.is_s2_paper_id(value):
        url = _S2_PAGE.format(value.lower())
    elif _SCHEMELESS_LINK_RE.match(value):
        url = "https://" + value
    else:
        return ""
    if _URL_FORBIDDEN_RE.search(url):
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return ""
    return url


class ReadingRequestForm(forms.Form):
    """请求精读. Validation only: the service decides between a new request, a vote
    and a pointer to a paper already on the list."""

    url = forms.CharField(
        label=_("论文链接"),
        max_length=ReadingRequest.URL_MAX_LENGTH,
        help_text=_(
            "arXiv、Semantic Scholar、DOI 或论文主页的链接（http 或 https），"
            "也可以直接写 arXiv ID 或 DOI。"
        ),
        widget=forms.TextInput(
            attrs={
                "inputmode": "url",
                "autocomplete": "url",
                "spellcheck": "false",
                "placeholder": "https://arxiv.org/abs/1706.03762",
            }
        ),
    )
    title = forms.CharField(
        label=_("论文标题"), max_length=ReadingRequest.TITLE_MAX_LENGTH
    )
    reason = forms.CharField(
        label=_("推荐理由"),
        min_length=ReadingRequest.REASON_MIN_LENGTH,
        max_length=ReadingRequest.REASON_MAX_LENGTH,
        help_text=_("为什么值得精读？这段话会公开显示。"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    nickname = forms.CharField(
        label=_("昵称（可选）"),
        max_length=ReadingRequest.NICKNAME_MAX_LENGTH,
        required=False,
        help_text=_("会公开显示；留空则显示为匿名读者。"),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    email = forms.EmailField(
        label=_("邮箱（可选）"),
        max_length=254,
        required=False,
        help_text=_("精读完成时通知你。只有站长能看到，不会公开。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The honeypot: hidden from people (CSS and aria-hidden), left empty by them and
    # filled in by naive bots. The view answers a filled-in form as if it had worked
    # and stores nothing, so the bot learns nothing to adapt to.
    website = forms.CharField(
        label=_("网站（请留空）"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # While the reader pastes or types a link, ask (debounced) whether the paper
        # is on the list or requested already; the answer fills #url-hint.
        self.fields["url"].widget.attrs.update(
            {
                "hx-get": reverse("papers:request_hint"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#url-hint",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )

    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def clean_url(self):
        url = paper_url_from_input(self.cleaned_data["url"])
        if not url:
            raise ValidationError(
                _(
                    "请填写以 http:// 或 https:// 开头的论文链接（不能包含空格、"
                    "引号或尖括号），或者 arXiv ID / DOI。"
                ),
                code="invalid",
            )
        key = request_key(url)
        if not key:
            raise ValidationError(
                _("这个链接无法识别，请检查主机名和端口。"), code="invalid"
            )
        # Lower-casing can lengthen some Unicode host names ("İ" becomes two
        # characters), so the key is checked as well as the link.
        key_length = ReadingRequest._meta.get_field("key").max_length
        if len(url) > ReadingRequest.URL_MAX_LENGTH or len(key) > key_length:
            raise ValidationError(_("这个链接太长了。"), code="max_length")
        return url

    def _clean_text(self, name, *, multiline=False, min_length=0):
        raw = self.cleaned_data[name]
        value = clean_paragraphs(raw) if multiline else clean_line(raw)
        validate_no_html(value)
        if raw and not value and self.fields[name].required:
            raise ValidationError(self.fields[name].error_messages["required"])
        if len(value) < min_length:
            raise ValidationError(
                _("请至少写 %(min)d 个字。"),
                code="min_length",
                params={"min": min_length},
            )
        return value

    def clean_title(self):
        return self._clean_text("title")

    def clean_reason(self):
        return self._clean_text(
            "reason", multiline=True, min_length=ReadingRequest.REASON_MIN_LENGTH
        )

    def clean_nickname(self):
        return self._clean_text("nickname")
