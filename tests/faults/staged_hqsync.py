"""hqsync's command line with every Google dashboard staged in small request bodies.

The demo dashboard fits in one `batchUpdate`, so a SIGKILL could never land between the
requests of a staged publish (hidden staging tabs written, then shown by one last request).
The fault suite starts `python -m tests.faults.staged_hqsync <command>` to kill those too.
"""

from __future__ import annotations

from hqsync.jobs.cli import main
from hqsync.sync.google import writer

BODY_BYTES = 20_000
"""Small enough to split the demo dashboard into several requests."""

for function in (writer.GoogleDashboardWriter.__init__, writer.open_google_writer):
    assert function.__kwdefaults__ is not None and "max_body_bytes" in function.__kwdefaults__
    function.__kwdefaults__["max_body_bytes"] = BODY_BYTES

if __name__ == "__main__":
    main()
