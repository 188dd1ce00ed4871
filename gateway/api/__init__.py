"""The REST API and the live event stream: FastAPI served by uvicorn inside the gateway's loop."""

from gateway.api.app import create_app
from gateway.api.server import ApiServer, ApiStartError

__all__ = ["ApiServer", "ApiStartError", "create_app"]
