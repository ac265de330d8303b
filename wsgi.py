"""WSGI entry point: `gunicorn wsgi:app`."""
from telehealth import create_app

app = create_app()
