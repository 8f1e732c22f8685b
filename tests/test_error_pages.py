"""The UI's 403 and 404 are pages of the UI with a way back; the API keeps problem+json."""
from __future__ import annotations

from review_support import login, make_user


def test_not_found_is_a_styled_page_with_a_way_to_sign_in(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert 'href="/static/css/app.css' in page and '<h1 id="error-title">Not Found</h1>' in page
    assert 'href="/auth/login"' in page  # not signed in: the way back is signing in


def test_forbidden_page_leads_back_to_the_queue(app, client, site):
    make_user(app, "mod@news.example")
    login(client, "mod@news.example")
    response = client.get("/admin/callbacks/", headers={"Referer": "http://localhost/review/"})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Your account cannot open this page" in page
    assert 'href="/review/">Back to the review queue</a>' in page
    assert 'href="http://localhost/review/">Back to the previous page</a>' in page


def test_a_foreign_referrer_is_not_offered_as_the_way_back(client):
    page = client.get("/nowhere", headers={"Referer": "https://evil.example/"}).get_data(as_text=True)
    assert "evil.example" not in page


def test_api_errors_stay_problem_json_and_redirects_stay_redirects(client):
    response = client.get("/api/v1/sites/none/comments/x", headers={"Authorization": "Bearer x"})
    assert response.status_code in (401, 404) and response.mimetype == "application/problem+json"
    assert client.get("/review").status_code == 308  # routing's slash redirect is not an error page


def test_method_not_allowed_keeps_its_allow_header(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
