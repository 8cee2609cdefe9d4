"""hqsync.config."""
