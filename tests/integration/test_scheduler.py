"""tornadio2.periodic.IOLoopScheduler on a real IOLoop: one heap, one loop timeout."""

import asyncio
import logging

import pytest

from tornadio2.periodic import IOLoopScheduler


class _Recorder:
    """Collects call names; ``done`` resolves once ``expected`` calls were made."""

    def __init__(self, expected: int) -> None:
        self.calls = []
        self.expected = expected
        self.done = asyncio.get_running_loop().create_future()

    def call(self, name):
        def run():
            self.calls.append(name)
            if len(self.calls) == self.expected and not self.done.done():
                self.done.set_result(None)
        return run


def _count_wakeups(io_loop, monkeypatch):
    armed = []
    call_at = io_loop.call_at

    def counting_call_at(when, callback, *args, **kwargs):
        armed.append(when)
        return call_at(when, callback, *args, **kwargs)

    monkeypatch.setattr(io_loop, "call_at", counting_call_at)
    return armed


@pytest.mark.gen_test
async def test_calls_run_by_deadline_not_by_order_of_scheduling(io_loop):
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(3)
    scheduler.call_later(0.06, recorder.call("third"))
    scheduler.call_later(0.02, recorder.call("first"))
    scheduler.call_later(0.04, recorder.call("second"))
    await recorder.done
    assert recorder.calls == ["first", "second", "third"]
    assert len(scheduler) == 0


@pytest.mark.gen_test
async def test_many_calls_share_one_ioloop_timeout(io_loop, monkeypatch):
    armed = _count_wakeups(io_loop, monkeypatch)
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(1000)
    for index in range(1000):
        scheduler.call_later(0.01 + index * 0.00001, recorder.call(index))
    assert len(armed) == 1  # later deadlines wait behind the earliest one's timeout
    await recorder.done
    assert recorder.calls == list(range(1000))


@pytest.mark.gen_test
async def test_cancelled_call_never_runs(io_loop):
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(1)
    cancelled = scheduler.call_later(0.01, recorder.call("cancelled"))
    scheduler.call_later(0.03, recorder.call("kept"))
    cancelled.cancel()
    cancelled.cancel()  # twice is harmless
    await recorder.done
    await asyncio.sleep(0.02)
    assert recorder.calls == ["kept"]


@pytest.mark.gen_test
async def test_a_later_call_made_by_a_callback_does_not_delay_an_earlier_one(io_loop):
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(3)

    def first():
        recorder.call("first")()
        scheduler.call_later(0.3, recorder.call("late"))

    scheduler.call_later(0.01, first)
    scheduler.call_later(0.05, recorder.call("middle"))
    started = io_loop.time()
    await recorder.done
    assert recorder.calls == ["first", "middle", "late"]
    assert io_loop.time() - started >= 0.3


@pytest.mark.gen_test
async def test_an_error_in_one_call_is_logged_and_the_others_run(io_loop, caplog):
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(1)

    def broken():
        raise RuntimeError("boom")

    scheduler.call_later(0.01, broken)
    scheduler.call_later(0.01, recorder.call("after"))
    with caplog.at_level(logging.ERROR, logger="tornadio2.periodic"):
        await recorder.done
    assert recorder.calls == ["after"]
    assert "boom" in caplog.text


@pytest.mark.gen_test
async def test_cancelled_calls_are_purged_when_they_are_half_the_heap(io_loop):
    scheduler = IOLoopScheduler(io_loop)
    recorder = _Recorder(50)
    calls = [scheduler.call_later(10 + index, recorder.call(index)) for index in range(300)]
    for call in calls[:149]:
        call.cancel()
    assert len(scheduler) == 300  # not yet half
    calls[149].cancel()
    calls[150].cancel()
    assert len(scheduler) == 149  # rebuilt without the 151 cancelled calls
    soon = [scheduler.call_later(0.01, recorder.call(("soon", index))) for index in range(50)]
    await recorder.done
    assert recorder.calls == [("soon", index) for index in range(50)]
    assert all(call.callback is None for call in soon)


@pytest.mark.gen_test
async def test_close_drops_every_waiting_call(io_loop):
    scheduler = IOLoopScheduler(io_loop)
    ran = []
    scheduler.call_later(0.01, lambda: ran.append("dropped"))
    scheduler.close()
    await asyncio.sleep(0.05)
    assert ran == []
    assert len(scheduler) == 0
