"""A fake YouTube Data API v3 ``videos.list`` on 127.0.0.1: items for the ids it
knows (unknown ids are left out, as YouTube does for deleted or private videos),
Google's error bodies for a wrong key and for more than 50 ids, canned replies for
the rest (tests/data/youtube/).

    with FakeYouTube(api_key="k") as yt:
        yt.add_video("nzqlFIcCSWQ", views=412345, duration="PT1H27M5S")
        client = YouTubeClient("k", base_url=yt.base_url, max_rps=0)
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fake_bilibili import Call, LoopbackServer, Reply

DATA = Path(__file__).parent / "data" / "youtube"
VIDEOS_PATH = "/youtube/v3/videos"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class FakeYouTube(LoopbackServer):
    name = "fake-youtube"

    def __init__(self, *, api_key: str = "test-key"):
        super().__init__()
        self.api_key = api_key
        self.items: dict[str, dict] = {
            item["id"]: item for item in load("videos.json")["items"]
        }

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/youtube/v3"

    def add_video(
        self, video_id: str, *, views: int | None = 1000, duration: str = "PT1H"
    ) -> None:
        statistics = {"likeCount": "1"}
        if views is not None:
            statistics["viewCount"] = str(views)
        self.items[video_id] = {
            "kind": "youtube#video",
            "id": video_id,
            "snippet": {"publishedAt": "2022-01-01T00:00:00Z", "title": video_id},
            "contentDetails": {"duration": duration},
            "statistics": statistics,
        }

    def ids_per_call(self) -> list[list[str]]:
        return [c.query.get("id", "").split(",") for c in self.calls_to(VIDEOS_PATH)]

    def answer(self, call: Call) -> Reply:
        if call.path != VIDEOS_PATH:
            return Reply(404, {"error": {"code": 404, "message": "Not Found"}})
        if call.headers.get("X-Goog-Api-Key") != self.api_key:
            return Reply(400, load("key-invalid.json"))
        ids = [i for i in call.query.get("id", "").split(",") if i]
        if not ids:
            return Reply(400, _error(400, "No filter selected.", "missingParameter"))
        if len(ids) > 50:
            return Reply(
                400,
                _error(
                    400,
                    "The request specifies an invalid filter parameter.",
                    "invalidFilters",
                ),
            )
        items = [self.items[i] for i in ids if i in self.items]
        return Reply(
            200,
            {
                "kind": "youtube#videoListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )


def _error(code: int, message: str, reason: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [
                {"message": message, "domain": "youtube.video", "reason": reason}
            ],
        }
    }
