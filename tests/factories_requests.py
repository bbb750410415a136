"""Factories for 请求精读, kept apart from tests/factories.py (another area's)."""

import factory

from papers.models import ReadingRequest, RequestVote


class ReadingRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadingRequest

    url = factory.Sequence(lambda n: f"https://arxiv.org/abs/2301.{n:05d}")
    key = factory.LazyAttribute(lambda o: "arxiv:" + o.url.rsplit("/", 1)[-1])
    title = factory.Sequence(lambda n: f"Requested paper {n}")
    reason = "A clear, influential paper worth reading slowly."
    nickname = ""
    email = ""


class RequestVoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestVote

    reading_request = factory.SubFactory(ReadingRequestFactory)
    session_hash = factory.Sequence(lambda n: f"{n:064x}")
    ip_hash = factory.Sequence(lambda n: f"{n + 10**6:064x}")
