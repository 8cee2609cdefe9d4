"""hqsync.config.rulesets."""
