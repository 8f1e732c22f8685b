"""Out-of-range integers in URLs, forms and page markers answer 400 or 404, never 500 (issue 8, item 9)."""
from __future__ import annotations

import pytest

from moderation.bounds import ID_MAX, parse_id
from moderation.review.queries import BadFilter, decode_cursor
from review_support import Reviewer, add_comment, comment_state, make_user

# Just past PostgreSQL's INTEGER, just past SQLite's 64-bit INTEGER, and far past both.
HUGE = [2**31, 2**63, 10**20, int("9" * 60)]


@pytest.fixture
def app(make_app):
    # A 500 must show as a 500 here, not as an exception raised into the test.
    return make_app(PROPAGATE_EXCEPTIONS=False)


@pytest.fixture
def reviewer(app, site):
    make_user(app, "mod@news.example")
    return Reviewer(app.test_client(), "mod@news.example")


@pytest.fixture
def admin(app, site):
    make_user(app, "admin@news.example", role="admin")
    return Reviewer(app.test_client(), "admin@news.example")


@pytest.mark.parametrize("huge", HUGE)
def test_comment_urls_with_an_id_no_column_holds_are_not_found(reviewer, huge):
    assert reviewer.client.get(f"/review/comments/{huge}").status_code == 404
    assert reviewer.decide(huge, "approved").status_code == 404
    assert reviewer.post(f"/review/comments/{huge}/claim").status_code == 404


def test_the_largest_id_a_column_holds_is_an_ordinary_unknown_comment(reviewer):
    assert reviewer.client.get(f"/review/comments/{ID_MAX}").status_code == 404
    response = reviewer.post(f"/review/comments/{ID_MAX}/claim")
    assert response.status_code == 404 and response.json["message"] == "No such comment on your sites."


@pytest.mark.parametrize("after", [str(2**63), str(2**31), "99999999999999999999~1", "1~1", "abc", "1" * 5000])
def test_pending_list_with_an_impossible_page_marker_is_a_bad_request(reviewer, after):
    response = reviewer.client.get("/review/", query_string={"status": "pending", "after": after})
    assert response.status_code == 400
    assert "page marker" in response.get_data(as_text=True)


@pytest.mark.parametrize(("status", "after"), [
    ("queued", "0.5~9223372036854775808"), ("queued", "0.5~2147483648"), ("queued", "nan~1"),
    ("queued", "inf~1"), ("queued", "1e400~1"), ("queued", "0.5~-1"),
    ("approved", "99999999999999999999~1"), ("approved", "-99999999999999999999~1"),
    ("rejected", "253402300800000000~1"), ("rejected", "1~9223372036854775808"), ("rejected", "1.5~1"),
])
def test_sorted_lists_with_an_impossible_page_marker_are_a_bad_request(reviewer, status, after):
    response = reviewer.client.get("/review/", query_string={"status": status, "after": after})
    assert response.status_code == 400


@pytest.mark.parametrize(("status", "after"), [
    ("queued", "99999999999999999999~1"),  # a harm above any score: the page starts at the top
    ("queued", f"0.5~{ID_MAX}"), ("approved", f"253402300799000000~{ID_MAX}"), ("pending", "0"),
])
def test_extreme_but_possible_page_markers_still_page(app, reviewer, status, after):
    add_comment(app, external_id="low", harm=0.4)
    response = reviewer.client.get("/review/", query_string={"status": status, "after": after})
    assert response.status_code == 200


@pytest.mark.parametrize("huge", HUGE)
def test_bulk_with_an_impossible_id_is_refused_and_changes_nothing(app, reviewer, huge):
    comment_id = add_comment(app)
    response = reviewer.post("/review/bulk", {"ids": [str(comment_id), str(huge)], "decision": "approved",
                                              "expected_status": "queued"})
    assert response.status_code == 400
    assert comment_state(app, comment_id)["status"] == "queued"


def test_claim_with_an_impossible_release_id_still_claims(app, reviewer):
    comment_id = add_comment(app)
    response = reviewer.post(f"/review/comments/{comment_id}/claim", {"release": str(2**63)})
    assert response.status_code == 200 and response.json["ok"] is True
    assert comment_state(app, comment_id)["claimed_by_user_id"] is not None


@pytest.mark.parametrize("huge", HUGE)
def test_admin_callback_urls_with_an_impossible_id_are_not_found(admin, huge):
    assert admin.post(f"/admin/callbacks/{huge}/redeliver", fetch=False).status_code == 404
    assert admin.post(f"/admin/callbacks/sites/{huge}/enable", fetch=False).status_code == 404


def test_parse_id_takes_plain_digits_within_the_column_range_only():
    assert parse_id("0") == 0 and parse_id(" 42 ") == 42 and parse_id(str(ID_MAX)) == ID_MAX
    assert parse_id("0" * 40 + "7") == 7
    for raw in (str(ID_MAX + 1), "-1", "1_000", "+5", "٣", "²", "1e3", "", "9" * 5000):
        with pytest.raises(ValueError):
            parse_id(raw)


def test_decode_cursor_refuses_what_the_columns_cannot_compare():
    assert decode_cursor("0.25~7", "queued").key == 0.25
    with pytest.raises(BadFilter):
        decode_cursor("nan~7", "queued")
    with pytest.raises(BadFilter):
        decode_cursor(f"1~{ID_MAX + 1}", "approved")
