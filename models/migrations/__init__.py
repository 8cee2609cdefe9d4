"""hqsync.models.migrations."""
