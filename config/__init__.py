"""The shared bottom of hqsync: vocabulary, errors, small utilities, settings and rule-set files.

`vocabulary`, `errors` and `utils` import nothing else of hqsync's; every other package may
use them. `settings` reads the TOML config and environment. See ARCHITECTURE.md.
"""
