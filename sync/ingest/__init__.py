"""Ingestion: a source snapshot's cells → checked, typed rows (and rejections) for the store.

rows (value types), contract (the sheet contract), text, headers, cells, hashing (the one row
hasher), references, memo and normalise (`normalise_source`). See ARCHITECTURE.md, ingestion.
"""
