"""The shipped rule set files (data only): one `*.toml` file per standard and its `*.csv` catalogs.

Read by `hqsync.config.ruleset_loader` through importlib.resources; the model they load into is
`hqsync.scoring.ruleset`. See ARCHITECTURE.md.
"""

# transitional: removed at merge. sync/normalise.py, sync/upsert.py, sync/dashboard.py and
# sync/init_source.py still import these names from here; the lead points them at
# hqsync.scoring.ruleset (RuleSet, Band, resolve_standard) and hqsync.config.ruleset_loader
# (load_rule_sets), then deletes this block.
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.scoring.ruleset import Band, RuleSet, resolve_standard

__all__ = ["Band", "RuleSet", "load_rule_sets", "resolve_standard"]
# end transitional
