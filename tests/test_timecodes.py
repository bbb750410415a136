"""Chapter times as curators type them ("1:02:03") and as pages show them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papers.timecodes import MAX_SECONDS, format_timecode, parse_timecode


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1:02:03", 3723),
        ("62:03", 3723),  # minutes past the hour, as players write them
        ("3723", 3723),
        ("1h2m3s", 3723),
        ("1H2M3S", 3723),
        ("2m", 120),
        ("45s", 45),
        ("1h", 3600),
        ("0:00", 0),
        ("0", 0),
        (" 1:27:05 ", 5225),
        ("1：27：05", 5225),  # full-width colons from a Chinese input method
        ("１：２７：０５", 5225),  # and full-width digits
        ("99:59:59", MAX_SECONDS),
    ],
)
def test_parse(text, seconds):
    assert parse_timecode(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty time"),
        ("   ", "empty time"),
        ("1:60", "seconds must be below 60"),
        ("1:61:00", "minutes must be below 60"),
        ("-5", "cannot be negative"),
        ("-1:00", "cannot be negative"),
        ("1.5", "not a time"),
        ("1::2", "not a time"),
        ("1:2:3:4", "not a time"),
        ("h", "not a time"),
        ("1h2x", "not a time"),
        ("abc", "not a time"),
        ("100:00:00", "longer than 99:59:59"),
        ("9" * 30, "too long"),
        (None, "not NoneType"),
        (90, "not int"),
    ],
)
def test_bad_input_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_timecode(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (5, "0:05"), (123, "2:03"), (3599, "59:59"), (3600, "1:00:00"),
     (3723, "1:02:03"), (5225, "1:27:05"), (36000, "10:00:00")],
)  # fmt: skip
def test_format(seconds, text):
    assert format_timecode(seconds) == text


@pytest.mark.parametrize("bad", [-1, 1.5, "12", True, None])
def test_format_refuses_what_is_not_whole_seconds(bad):
    with pytest.raises(ValueError):
        format_timecode(bad)


@given(st.integers(min_value=0, max_value=MAX_SECONDS))
def test_format_then_parse_round_trips(seconds):
    assert parse_timecode(format_timecode(seconds)) == seconds


@given(
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=59),
    st.integers(min_value=0, max_value=59),
)
def test_every_written_form_means_the_same(hours, minutes, seconds):
    total = hours * 3600 + minutes * 60 + seconds
    forms = [
        f"{hours}:{minutes:02d}:{seconds:02d}",
        f"{hours * 60 + minutes}:{seconds:02d}",
        str(total),
        f"{hours}h{minutes}m{seconds}s",
    ]
    assert {parse_timecode(form) for form in forms} == {total}
    assert format_timecode(total) == (forms[0] if hours else forms[1])


@given(st.text(max_size=25))
def test_any_text_parses_or_raises_value_error(text):
    try:
        seconds = parse_timecode(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert 0 <= seconds <= MAX_SECONDS
