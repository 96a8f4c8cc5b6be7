"""GELF load for the benchmark, and how fast the sender can go on its own.

Every message carries the fields ``_bench_run`` (one token per measurement) and
``_bench_seq`` (0..N-1), so a search for ``bench_run:TOKEN`` counts exactly what one
measurement sent. The paced senders are the ingest scenario's (molecule/resources).
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "molecule/resources"))
import gelf_sender  # noqa: E402


def gelf_frame(run: str, seq: int) -> bytes:
    """One GELF 1.1 message as uncompressed JSON."""
    return (
        f'{{"version":"1.1","host":"benchmark","short_message":"benchmark {run} {seq}",'
        f'"_bench_run":"{run}","_bench_seq":{seq}}}'
    ).encode()


def send_tcp(
    address: tuple[str, int], run: str, total: int, rate: float, connections: int = 1
) -> float:
    """Messages 0..total-1 of one run over GELF TCP at rate; seconds taken."""
    return gelf_sender.send_tcp(address, lambda seq: gelf_frame(run, seq), total, rate, connections)


def send_udp(address: tuple[str, int], run: str, total: int, rate: float) -> float:
    """Messages 0..total-1 of one run over GELF UDP at rate; seconds taken."""
    return gelf_sender.send_udp(address, lambda seq: gelf_frame(run, seq), total, rate)


def _discard_tcp(listener: socket.socket) -> None:
    connection, _ = listener.accept()
    with connection:
        while connection.recv(1 << 20):
            pass


def sender_ceiling(total: int = 200_000) -> dict[str, float]:
    """Messages per second each sender reaches unpaced against a local socket that discards."""
    unlimited = float("inf")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        reader = threading.Thread(target=_discard_tcp, args=(listener,), daemon=True)
        reader.start()
        tcp = total / send_tcp(listener.getsockname(), "ceiling", total, unlimited)
        reader.join(timeout=10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))  # never read: the kernel drops what overflows
        udp = total / send_udp(sink.getsockname(), "ceiling", total, unlimited)
    return {"tcp": tcp, "udp": udp}
