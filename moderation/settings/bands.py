"""SQL for the preview's grouped path: each comment's band between the thresholds of two policies.

`decide` compares each score with the policies' thresholds (>=) and nothing else, so a score
anywhere in a band (between two consecutive thresholds of either policy) decides like the
band's lower edge. The database computes the bands and counts the comments in each; the
preview then runs `decide` once per band combination.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Comment
from ..policy import Policy


class Bands:
    """Per category, the sorted thresholds of both policies; a score's band is how many it reaches."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        levels: dict[str, set[float]] = {}
        for policy in policies:
            for name, threshold in policy.thresholds.items():
                for value in (threshold.review, threshold.reject):
                    if value is not None:
                        levels.setdefault(name, set()).add(float(value))
        self.edges = {name: sorted(values) for name, values in sorted(levels.items())}

    def expression(self, name: str, score: ColumnElement) -> ColumnElement[int]:
        """-1 for no score, else the number of the category's thresholds at or below it (decide's >=)."""
        edges = self.edges[name]
        whens = [(score.is_(None), -1)]
        whens += [(score >= edge, index + 1) for index, edge in reversed(list(enumerate(edges)))]
        return sa.case(*whens, else_=0)

    def representative(self, bands: Sequence[int]) -> dict[str, float]:
        """Scores on the lower edge of each band: on the same side of every threshold as the band's comments."""
        scores = {}
        for (name, edges), band in zip(self.edges.items(), bands):
            if band >= 0:
                scores[name] = edges[band - 1] if band > 0 else 0.0
        return scores


def score_columns(bands: Bands) -> tuple[Any, dict[str, ColumnElement]]:
    """The FROM clause and one float column per category, parsed once per comment."""
    names = list(bands.edges)
    if db.engine.dialect.name == "postgresql":
        # json_to_record parses the JSON once; an object is guaranteed so a JSON null cannot raise.
        objects = sa.case((sa.func.json_typeof(Comment.scores) == "object", Comment.scores),
                          else_=sa.cast(sa.literal("{}"), sa.JSON))
        record = (sa.func.json_to_record(objects)
                  .table_valued(*[sa.column(name, sa.Float) for name in names] or [sa.column("_none", sa.Float)])
                  .render_derived(name="score_record", with_types=True))
        source = sa.join(Comment, record, sa.true())
        return source, {name: record.c[name] for name in names}
    return Comment.__table__, {name: sa.func.json_extract(Comment.scores, f'$."{name}"') for name in names}


def scored() -> ColumnElement[bool]:
    typeof = sa.func.json_typeof if db.engine.dialect.name == "postgresql" else sa.func.json_type
    return typeof(Comment.scores) == "object"


def unsupported(covered: frozenset[str] | None) -> ColumnElement[int]:
    """1 where decide would find the language not covered (language set and not in `covered`)."""
    if covered is None:
        return sa.literal(0)
    return sa.case((sa.and_(Comment.language.is_not(None), Comment.language != "",
                            Comment.language.not_in(sorted(covered))), 1), else_=0)


def group_key(bands: Bands, covered: frozenset[str] | None, columns: Mapping[str, ColumnElement]) -> list:
    return [unsupported(covered), *(bands.expression(name, columns[name]) for name in bands.edges)]
