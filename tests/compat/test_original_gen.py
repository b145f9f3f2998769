"""TornadIO2's own ``tests/gen_test.py``, with Python 3 syntax only.

These five tests are the contract for ``tornadio2.gen``: ``gen.Task`` driven
by plain callbacks with no event loop running, ``sync_engine`` keeping the
calls of one instance in order, and ``gen.engine`` letting them finish in any
order. The callbacks wait in a plain deque that the test empties by hand,
in order or from the back.
"""

from collections import deque

from tornadio2 import gen

_queue = None


def init_environment():
    global _queue
    _queue = deque()


def run_sync(test, callback):
    callback(test)


def queue_async(test, callback):
    _queue.append((callback, test))


def step_async():
    callback, value = _queue.popleft()
    callback(value)


def run_async():
    while True:
        try:
            step_async()
        except IndexError:
            break


def run_async_oor():
    while True:
        try:
            callback, value = _queue.pop()
        except IndexError:
            break
        callback(value)


class Dummy:
    def __init__(self, queue_type):
        self.v = None
        self.queue_type = queue_type

    @gen.sync_engine
    def test(self, value):
        self.v = yield gen.Task(self.queue_type, value)


class DummyList:
    def __init__(self, queue_type):
        self.v = []
        self.queue_type = queue_type

    @gen.sync_engine
    def test(self, value):
        self.v.append((yield gen.Task(self.queue_type, value)))


class DummyListOutOfOrder:
    def __init__(self, queue_type):
        self.v = []
        self.queue_type = queue_type

    @gen.engine
    def test(self, value):
        self.v.append((yield gen.Task(self.queue_type, value)))


class DummyLoop:
    def __init__(self, queue_type):
        self.v = 0
        self.queue_type = queue_type

    @gen.sync_engine
    def test(self, value):
        for _ in range(2):
            self.v += (yield gen.Task(self.queue_type, value))


def test():
    init_environment()

    dummy = Dummy(run_sync)
    dummy.test('test')

    assert dummy.v == 'test'


def test_async():
    init_environment()

    dummy = Dummy(queue_async)
    dummy.test('test')
    run_async()

    assert dummy.v == 'test'


def test_sync_queue():
    init_environment()

    dummy = DummyList(queue_async)
    dummy.test('1')
    dummy.test('2')
    dummy.test('3')
    run_async()

    assert dummy.v == ['1', '2', '3']


def test_sync_queue_oor():
    init_environment()

    dummy = DummyList(queue_async)
    dummy.test('1')
    dummy.test('2')
    dummy.test('3')
    run_async_oor()

    assert dummy.v == ['1', '2', '3']


def test_async_queue_oor():
    init_environment()

    dummy = DummyListOutOfOrder(queue_async)
    dummy.test('1')
    dummy.test('2')
    dummy.test('3')
    run_async_oor()

    assert dummy.v == ['3', '2', '1']
