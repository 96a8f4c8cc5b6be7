"""The benchmark's search for the highest steady rate, and the shared paced GELF sender."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "molecule/resources"))
sys.path.insert(0, str(REPO / "scripts"))
import gelf_sender  # noqa: E402
import ingest_benchmark  # noqa: E402


def search(monkeypatch, capacity: int, start: int, ceiling: float = 1e6) -> tuple[int, list[int]]:
    """The search against a stack that sustains every rate up to capacity."""
    tried: list[int] = []

    def sustained(node, rate, seconds):
        tried.append(rate)
        assert len(tried) < 50, f"the search does not end: {tried[-5:]}"
        return rate <= capacity

    monkeypatch.setattr(ingest_benchmark, "sustained", sustained)
    return ingest_benchmark.highest_tcp_rate(None, 30, start, ceiling), tried


@pytest.mark.parametrize("start", [4000, 20000, 26000, 60000])
def test_the_search_finds_the_capacity_within_its_precision(monkeypatch, start):
    found, tried = search(monkeypatch, capacity=24_700, start=start)
    assert found <= 24_700
    assert found >= 24_700 / (1 + ingest_benchmark.PRECISION) - ingest_benchmark.GRAIN
    assert all(rate % ingest_benchmark.GRAIN == 0 for rate in tried)


def test_a_start_near_the_capacity_needs_few_steps(monkeypatch):
    _, tried = search(monkeypatch, capacity=24_700, start=23_000)
    assert len(tried) <= 3, tried


def test_the_search_stops_at_the_ceiling_and_at_nothing(monkeypatch):
    assert search(monkeypatch, capacity=10**9, start=5000, ceiling=30_000)[0] == 30_000
    # A ceiling between two grains: the grain below it is as far as the search can go.
    found, tried = search(monkeypatch, capacity=10**9, start=5000, ceiling=30_200)
    assert found == ingest_benchmark.grain(30_200) and len(tried) < 20
    assert search(monkeypatch, capacity=100, start=5000)[0] == 0


def test_the_tcp_sender_paces_every_frame_onto_the_wire():
    received = bytearray()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def read() -> None:
            connection, _ = listener.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        seconds = gelf_sender.send_tcp(
            listener.getsockname(), lambda seq: b'{"seq":%d}' % seq, 1000, 4000
        )
        reader.join(timeout=10)
    frames = bytes(received).split(b"\0")
    assert frames[:-1] == [b'{"seq":%d}' % seq for seq in range(1000)]
    assert frames[-1] == b""
    assert 0.2 <= seconds < 0.5  # 1000 messages at 4000/s


@pytest.mark.parametrize(("tick", "most_writes"), [(0.05, 8), (0.0, None)])
def test_paced_messages_leave_in_order_and_at_most_once_a_tick(tick, most_writes):
    slices: list[tuple[int, int]] = []
    seconds = gelf_sender.paced(lambda first, end: slices.append((first, end)), 400, 2000, tick)
    assert [first for first, _ in slices] == [0] + [end for _, end in slices[:-1]]
    assert slices[-1][1] == 400
    assert 0.19 <= seconds < 0.4  # 400 messages at 2000/s
    if most_writes:
        # 0.2 s of messages in wake-ups 0.05 s apart: about five writes, never one each.
        assert len(slices) <= most_writes
    else:
        assert len(slices) > 50  # without a tick, every message leaves when it is due
