"""hqsync.sync."""
