"""WSGI entry point: `gunicorn --preload wsgi:app`."""
from moderation import create_app

app = create_app()
