"""Liveness: the process is up and answering."""
from __future__ import annotations

from flask import jsonify


def healthz():
    return jsonify(status="ok")
