"""hqsync.models.migrations.versions."""
