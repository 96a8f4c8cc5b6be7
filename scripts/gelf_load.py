"""Paced GELF load over TCP and UDP, and how fast this sender can go on its own.

Every message carries the fields ``_bench_run`` (one token per measurement) and
``_bench_seq`` (0..N-1), so a search for ``bench_run:TOKEN`` counts exactly what one
measurement sent.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable

# Messages sent per pass of the pacing loop at most: big enough to keep up with any
# rate measured here, small enough that the rate stays even within a second.
SLICE = 200


def gelf_frame(run: str, seq: int) -> bytes:
    """One GELF 1.1 message as uncompressed JSON."""
    return (
        f'{{"version":"1.1","host":"benchmark","short_message":"benchmark {run} {seq}",'
        f'"_bench_run":"{run}","_bench_seq":{seq}}}'
    ).encode()


def paced(send_slice: Callable[[int, int], None], total: int, rate: float) -> float:
    """Call send_slice(first, end) so that message i leaves at i / rate; seconds taken."""
    started = time.monotonic()
    sent = 0
    while sent < total:
        elapsed = time.monotonic() - started
        allowed = total if math.isinf(rate) else int(elapsed * rate) + 1
        due = min(total, allowed, sent + SLICE)
        if due > sent:
            send_slice(sent, due)
            sent = due
        else:
            time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    return time.monotonic() - started


def send_tcp(
    address: tuple[str, int], run: str, total: int, rate: float, connections: int = 1
) -> float:
    """GELF over TCP (NUL-terminated frames), spread over a few connections; seconds taken."""
    sockets = [socket.create_connection(address, timeout=30) for _ in range(connections)]
    try:

        def send_slice(first: int, end: int) -> None:
            frames = b"".join(gelf_frame(run, seq) + b"\0" for seq in range(first, end))
            sockets[first // SLICE % connections].sendall(frames)

        return paced(send_slice, total, rate)
    finally:
        for sock in sockets:
            sock.close()


def send_udp(address: tuple[str, int], run: str, total: int, rate: float) -> float:
    """GELF over UDP, one message per datagram; seconds taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:

        def send_slice(first: int, end: int) -> None:
            for seq in range(first, end):
                sock.sendto(gelf_frame(run, seq), address)

        return paced(send_slice, total, rate)


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
