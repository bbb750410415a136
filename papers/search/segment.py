"""Cutting text into words: jieba's search mode with our ML dictionary.

The same cut is applied when text is indexed and when a query is searched, so a
word found in one is found in the other. Latin words are lower-cased here; the
database then stems the English ones. jieba loads its dictionary (shipped inside
the wheel, nothing is downloaded) once per process, on first use (about 1 s).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import cache
from pathlib import Path

USER_DICT = Path(__file__).resolve().parent.parent / "data" / "search_dict.txt"

# A token is a run of CJK ideographs, or a run of letters/digits with inner dots or
# hyphens (arXiv ids such as 1706.03762, names such as GPT-4 or ResNet-50).
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+(?:[.\-][^\W_{CJK}]+)*")
HAS_CJK = re.compile(rf"[{CJK}]")

_lock = threading.Lock()


@cache
def tokenizer():
    """The process's jieba, with our dictionary loaded (thread-safe, once)."""
    with _lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        segmenter = jieba.Tokenizer()
        segmenter.initialize()
        segmenter.load_userdict(str(USER_DICT))
        return segmenter


def words(text: str) -> list[str]:
    """The words of ``text`` in order, lower-cased, Chinese cut for search (the
    whole word and its shorter words: 注意力机制 gives 注意力, 机制, 注意力机制)."""
    text = unicodedata.normalize("NFKC", text or "")
    out: list[str] = []
    for match in TOKEN.finditer(text):
        token = match.group(0)
        if HAS_CJK.match(token):
            out.extend(w for w in tokenizer().cut_for_search(token) if w.strip())
        else:
            out.append(token.lower())
            # GPT-4 is also found as "gpt" and 1706.03762 as itself only.
            if "-" in token:
                out.extend(part.lower() for part in token.split("-") if part)
    return out


def segmented(text: str) -> str:
    """``text`` as space-separated words, what the index stores."""
    return " ".join(words(text))


def query_words(text: str) -> list[str]:
    """The distinct words of a query, in order."""
    seen: dict[str, None] = {}
    for word in words(text):
        seen.setdefault(word, None)
    return list(seen)
