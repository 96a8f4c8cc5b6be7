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

    def sustained(node, protocol, rate, seconds):
        tried.append(rate)
        assert len(tried) < 50, f"the search does not end: {tried[-5:]}"
        return rate <= capacity

    monkeypatch.setattr(ingest_benchmark, "sustained", sustained)
    return ingest_benchmark.highest_rate(None, "tcp", 30, start, ceiling), tried


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


@pytest.mark.parametrize(("stored", "passed"), [(3000, True), (2999, False)])
def test_a_udp_step_passes_only_when_nothing_is_lost(monkeypatch, stored, passed):
    sent, settled = [], []
    monkeypatch.setattr(
        ingest_benchmark, "send_gelf",
        lambda protocol, node, token, total, rate: sent.append((protocol, total, rate)) or 3.0,
    )  # fmt: skip
    monkeypatch.setattr(ingest_benchmark, "wait_for_all", lambda *_: (stored, 15.0))
    monkeypatch.setattr(ingest_benchmark, "settle", lambda *args: settled.append(args) or 0)
    assert ingest_benchmark.step(None, "udp", 1000, 3) is passed
    assert sent == [("udp", 3000, 1000)]
    assert bool(settled) is not passed  # a failed step waits out its backlog


def test_the_udp_search_starts_at_the_highest_fixed_rate_that_lost_nothing(monkeypatch):
    losses = {5000: 0.0, 10000: 0.02}
    starts: dict[str, float] = {}
    for name in ("wait_for_input", "rotate", "granted_udp_buffer"):
        monkeypatch.setattr(ingest_benchmark, name, lambda node: None)
    monkeypatch.setattr(ingest_benchmark, "flood", lambda node: (10_000.0, 12.0))
    monkeypatch.setattr(ingest_benchmark, "udp_loss", lambda node, rate: losses[rate])

    def highest_rate(node, protocol, seconds, start, ceiling):
        starts[protocol] = start
        return {"tcp": 17_000, "udp": 6_500}[protocol]

    monkeypatch.setattr(ingest_benchmark, "highest_rate", highest_rate)
    first = ingest_benchmark.measure(None, 30, None, 1e6)
    assert starts["udp"] == 5000 and first["udp"] == 6500 and first["udp10000"] == 0.02
    ingest_benchmark.measure(None, 30, {"tcp": 18_000.0, "udp": 7_000.0}, 1e6)
    assert starts == {"tcp": 18_000.0, "udp": 7_000.0}  # a later run starts at the last result


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
