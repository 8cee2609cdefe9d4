"""hqsync.models."""
