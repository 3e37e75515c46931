"""Ingest: parse, chunk, embed and index documents; idempotent by content hash."""
