"""The ``candor`` command (``candor.cli.main``). Operations of Rekognition's API go through the
same validation and dispatch as the server and ``candor.Client`` (:mod:`candor.cli.wire`)."""

from candor.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
