"""The shipped rule set files (data only): one `*.toml` file per standard and its `*.csv` catalogs.

Read by `hqsync.config.ruleset_loader` through importlib.resources; the model they load into is
`hqsync.scoring.ruleset`. See ARCHITECTURE.md.
"""
