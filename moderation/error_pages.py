"""HTML error pages for the UI (403, 404 and the rest): the house style and a way back."""
from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

# What each error means to a moderator; the others get Werkzeug's own description.
MESSAGES = {
    403: "Your account cannot open this page. It belongs to another role or to a site you do not "
         "work on; an admin can change that.",
    404: "There is nothing here. The page may have moved, or the comment belongs to a site you do "
         "not work on.",
    405: "This address does not take that kind of request.",
}
# Headers an error page keeps from the exception (what a client may act on).
KEPT_HEADERS = ("allow", "retry-after")


def render(error: HTTPException) -> ResponseReturnValue:
    """The error as a page of the UI; redirects (routing's 308s) pass through untouched."""
    code = error.code or 500
    if code < 400:
        return error
    headers = [(k, v) for k, v in error.get_headers() if k.lower() in KEPT_HEADERS]
    page = render_template("error.html", code=code, title=error.name,
                           message=MESSAGES.get(code, error.description or error.name))
    return page, code, headers
