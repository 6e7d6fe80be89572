"""Rekognition's service model, as botocore ships it: the one source of wire knowledge."""

from __future__ import annotations

import functools
from typing import Any

SERVICE = "rekognition"
API_VERSION = "2016-06-27"
TARGET_PREFIX = "RekognitionService."


@functools.lru_cache(maxsize=1)
def service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE, API_VERSION)


def operation_model(name: str) -> Any:
    return service_model().operation_model(name)
