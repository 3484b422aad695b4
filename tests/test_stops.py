"""SIGTERM raised as an interrupt inside `rasc.stops.sigterm_as_interrupt`, and the previous handler put back."""

from __future__ import annotations

import os
import signal

import pytest

from rasc.stops import Terminated, sigterm_as_interrupt


def test_sigterm_inside_the_block_is_an_interrupt_and_the_handler_is_put_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as stop:
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line would
            pytest.fail("SIGTERM did not interrupt the block")
    assert isinstance(stop.value, Terminated)
    assert signal.getsignal(signal.SIGTERM) == before
