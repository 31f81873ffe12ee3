"""The members' HTTP API: `create_app(...)` builds it, `serve(app, settings)` runs it in the current event loop."""

from teamfoned.api.app import create_app
from teamfoned.api.server import ApiServer, serve

__all__ = ["ApiServer", "create_app", "serve"]
