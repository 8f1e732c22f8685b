"""WSGI entry point: `gunicorn --preload wsgi:app`."""
from moderation.app import create_app

app = create_app()
