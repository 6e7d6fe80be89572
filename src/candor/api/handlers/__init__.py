"""Wire handlers, one module per operation group; :mod:`candor.api.operations` merges them."""
