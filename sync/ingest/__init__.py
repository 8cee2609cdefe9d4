"""Ingestion: a source's sheets → normalised rows → the store, incrementally.

See ARCHITECTURE.md for the data flow.
"""
