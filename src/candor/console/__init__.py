"""The web console served by ``candor serve`` at ``/console`` (see :mod:`candor.console.app`)."""
