"""hqsync.jobs."""
