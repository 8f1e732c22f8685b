"""Readiness: the database answers and the scorer is loaded (503 with the reasons otherwise)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify

from .. import runtime, security
from ..extensions import db
from ..scoring import ScorerUnavailable


def readyz():
    """Ready when the database answers and the scorer is loaded (503 with the reasons otherwise)."""
    problems: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready"
        db.session.rollback()
        problems["database"] = f"unreachable: {type(error).__name__}"
    scorer = runtime.scorer()
    try:
        # Loading here (in a worker, never the master) lets a fresh node become ready before
        # its first comment; a failed load is remembered, so probes do not hammer the download.
        scorer.ensure_loaded()
    except ScorerUnavailable:
        pass
    loaded, reason = scorer.status()
    if not loaded:
        problems["scorer"] = reason or "not loaded yet"
    # Checks other packages add: (name, None when ready or the reason), e.g. Coral's warm-up.
    checks = {}
    for check in current_app.extensions.get("moderation.readiness_checks", ()):
        name, problem = check()
        checks[name] = problem or "ok"
        if problem:
            problems[name] = problem
    body = {
        "status": "ok" if not problems else "unavailable",
        "database": "ok" if "database" not in problems else problems["database"],
        "scorer": {"model": scorer.name, "loaded": loaded, "reason": None if loaded else problems["scorer"]},
        **checks,
    }
    if not security.is_operator():
        # Reasons name the driver, the model files and their paths: for operators only.
        body = {"status": body["status"]}
    response = jsonify(body)
    response.status_code = 200 if not problems else 503
    return response
