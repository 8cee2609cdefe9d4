"""Ingestion: a source snapshot's cells read, checked and turned into rows to store."""
