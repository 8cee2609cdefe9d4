"""hqsync.scoring."""
