"""create_app(): the Flask app with its configuration, extensions, blueprints and commands."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """templates/ or migrations/: inside the package when installed from the wheel, else the checkout's."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def _secret_key(app: Flask) -> str:
    """MODERATION_SECRET_KEY, else a random key kept in the instance folder (one machine only)."""
    if app.config.get("SECRET_KEY"):
        return app.config["SECRET_KEY"]
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process started at the same moment and wrote it first
        time.sleep(0.1)
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    from . import config

    settings = config.from_environment()
    settings.update(test_config or {})
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = _secret_key(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.database_uri(app.config, app.instance_path)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # tokens live as long as the session
    app.json.sort_keys = False


def _register_error_handlers(app: Flask) -> None:
    from . import error_pages
    from .problems import Problem, from_exception, problem_response

    app.register_error_handler(Problem, from_exception)
    from . import unavailable

    unavailable.init_app(app)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if request.path.startswith("/v1alpha1/"):  # the Perspective-compatible API speaks Google's errors
            from .perspective.views import google_error
            return google_error(error)
        # The API speaks problem+json; the UI keeps HTML error pages.
        if request.path.startswith("/api/"):
            detail = error.description or error.name
            if error.code == 413:
                detail = f"the body is larger than {app.config['MAX_BODY_BYTES']} bytes"
            elif error.code == 429:
                detail = f"rate limit exceeded ({error.description}); retry later"
            headers = {k: v for k, v in error.get_headers() if k.lower() in ("retry-after", "allow")}
            return problem_response(error.code or 500, detail, headers=headers)
        return error_pages.render(error)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI."""
    # Named after the package, not this module: the instance folder stays moderation-instance
    # and the app's logger "moderation".
    app = Flask("moderation", instance_relative_config=True,
                template_folder=str(bundled_dir("templates")))
    _configure(app, test_config)

    from . import commands, database, health, logs, ratelimits, runtime, security
    from .lexicon import store as lexicon_store
    from .auth import loader
    from .extensions import csrf, migrate
    from .extensions import db as _db
    from .ingest.views import bp as api_bp

    database.init_app(app)
    migrate.init_app(app, _db, directory=str(bundled_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    ratelimits.init_app(app)
    loader.init_app(app)
    runtime.init_app(app)
    lexicon_store.init_app(app)
    logs.init_app(app)
    security.init_app(app)

    app.register_blueprint(health.blueprint())
    # Publishers authenticate by signature or token, not by session cookie: no CSRF on the API.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    from .callbacks.views import bp as callbacks_admin_bp
    from .ingest.coral import bp as coral_bp
    csrf.exempt(coral_bp)
    app.register_blueprint(coral_bp)
    app.register_blueprint(callbacks_admin_bp)
    from .auth.views import bp as auth_bp
    from .review.views import bp as review_bp
    app.register_blueprint(auth_bp)
    app.register_blueprint(review_bp)
    from . import perspective
    perspective.init_app(app)
    from .settings.insights_views import bp as insights_bp
    app.register_blueprint(insights_bp)
    from .settings.views import bp as settings_bp
    app.register_blueprint(settings_bp)
    _register_error_handlers(app)
    commands.init_app(app)
    return app
