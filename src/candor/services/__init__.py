"""One module per operation group. Keyword arguments in, frozen dataclasses out."""
