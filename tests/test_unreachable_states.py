"""States nothing can reach are gone: a rescore job never `failed`, an outbox message never `cancelled`."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from moderation.extensions import db
from moderation.jobs import rescore
from moderation.models import JOB_STATES, RescoreJob
from moderation.models.outbox import OUTBOX_STATUSES


def test_a_rescore_job_state_outside_the_known_ones_is_refused_by_the_database(app):
    assert JOB_STATES == ("queued", "running", "done")
    assert not hasattr(rescore, "fail_job")
    with app.app_context():
        db.session.add(RescoreJob(statuses="queued", state="failed", cursor=0, total=0, processed=0, changed=0,
                                  skipped=0))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_the_outbox_has_no_cancelled_state_anywhere(app, runner):
    from moderation.callbacks.views import STATUSES

    assert OUTBOX_STATUSES == ("pending", "delivered", "failed")
    assert set(STATUSES) == set(OUTBOX_STATUSES)
    refused = runner.invoke(args=["callbacks", "list", "--status", "cancelled"])
    assert refused.exit_code == 2 and "'cancelled' is not one of" in refused.output
    assert runner.invoke(args=["callbacks", "list", "--status", "failed"]).exit_code == 0
