"""Candor: Amazon Rekognition's API, self-hosted, with real models and accountability."""

from candor.client import Client
from candor.config import Settings

__version__ = "0.1.0"
__all__ = ["Client", "Settings", "__version__"]
