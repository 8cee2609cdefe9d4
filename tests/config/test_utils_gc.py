"""`paused_gc`: the collector paused, then back, and nothing built meanwhile is lost to it."""

from __future__ import annotations

import gc
import weakref

from hqsync.config.utils import paused_gc


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_is_paused_then_back_and_still_frees_cycles_made_meanwhile():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause leaves the outer one paused
        node = _Node()
        gone = weakref.ref(node)
        del node
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None


def test_what_was_frozen_before_a_pause_stays_frozen():
    kept = [_Node() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused_gc():
            _ = [_Node() for _ in range(10)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    del kept
