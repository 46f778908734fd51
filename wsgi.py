"""The WSGI entry point for gunicorn (``gunicorn wsgi:app``): the app from the DISPATCH_*
settings, logging as ``DISPATCH_LOG_FORMAT`` says (text, or json with request ids)."""

import os

from dispatch import create_app, logs

logs.configure(os.environ.get("DISPATCH_LOG_FORMAT"))
app = create_app()
