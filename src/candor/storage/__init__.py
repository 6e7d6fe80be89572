"""Metadata storage behind Protocols (:mod:`candor.storage.base`); SQLite is the default."""
