"""Accepting connections (listen.py): per-source caps, the reserve, eviction, EMFILE without a spin."""

from __future__ import annotations

import asyncio
import errno
import socket
import time

from autoprov_responder import listen


class Conn:
    def __init__(self, idle=True):
        self.idle = idle
        self.evicted = False

    def evict(self):
        self.evicted = True


def fill(table, source, n, idle=True):
    conns = []
    for _unused in range(n):
        assert table.admit(source) is None
        conn = Conn(idle)
        table.add(source, conn)
        conns.append(conn)
    return conns


def test_a_source_at_its_cap_gives_up_its_own_longest_idle_connection():
    table = listen.ConnectionTable(100, per_source=4, reserve=10)
    first = fill(table, "10.0.0.1", 4)
    assert table.admit("10.0.0.1") is None and first[0].evicted and not first[1].evicted
    assert table.held("10.0.0.1") == 3 and table.total == 3
    busy = listen.ConnectionTable(100, per_source=2, reserve=10)
    fill(busy, "10.0.0.1", 2, idle=False)
    assert busy.admit("10.0.0.1") == "per_source"  # nothing idle to give up: refused


def test_the_reserve_is_for_sources_holding_none_and_a_full_table_takes_from_the_busiest():
    table = listen.ConnectionTable(20, per_source=20, reserve=5)
    flood = fill(table, "10.0.0.1", 15, idle=False)
    assert table.admit("10.0.0.1") == "full"  # the last 5 slots are for new sources
    fill(table, "10.0.0.2", 1)
    for n in range(3, 7):
        fill(table, "10.0.0.%d" % n, 1)
    assert table.total == 20
    assert table.admit("10.0.0.9") == "full"  # the busiest holds nothing idle
    flood[3].idle = True
    assert table.admit("10.0.0.9") is None and flood[3].evicted and table.total == 19
    table.release("10.0.0.1", flood[3])  # connection_lost after eviction: counted once
    assert table.total == 19


class Log:
    def __init__(self):
        self.names = []

    def event(self, level, name, **fields):
        self.names.append(name)


class OutOfDescriptors:
    """A listening socket whose accept() fails with EMFILE, as at the descriptor limit."""

    def __init__(self, sock):
        self.sock, self.calls = sock, 0

    def fileno(self):
        return self.sock.fileno()

    def accept(self):
        self.calls += 1
        raise OSError(errno.EMFILE, "Too many open files")

    def close(self):
        self.sock.close()


def test_emfile_pauses_accepting_with_a_back_off_instead_of_spinning():
    server = listen.listen_socket("127.0.0.1", 0, 16)
    client = socket.create_connection(server.getsockname())  # the listening socket stays readable
    fake, log = OutOfDescriptors(server), Log()

    async def run():
        listener = listen.Listener(asyncio.get_running_loop(), fake, lambda conn, addr: None, log, "test")
        listener.start()
        started = time.process_time()
        await asyncio.sleep(1.5)
        listener.close()
        return time.process_time() - started

    cpu = asyncio.run(run())
    client.close()
    assert 3 <= fake.calls <= 8, fake.calls  # 0.05, 0.1, 0.2, 0.4, 0.8 s apart: not thousands
    assert log.names.count("http_accept_paused") == fake.calls and cpu < 0.5
