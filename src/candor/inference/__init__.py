"""Models behind small Protocols. Nothing here loads at import time."""
