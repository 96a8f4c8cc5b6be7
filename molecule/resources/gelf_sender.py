"""Paced GELF senders over TCP and UDP, for the ingest scenario's tests and the benchmark.

Message i of a send (0..total-1) is due i / rate seconds after the first; the caller says
what message i is: a function of i that returns one GELF JSON document as bytes.

Over TCP the messages due are written together every TCP_TICK seconds, as log shippers
write what they have buffered; a write per message would make the sender's and the
input's cost per write the limit, not the stack's. Over UDP each message leaves alone
when it is due, a datagram each, as devices send.
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable

Frame = Callable[[int], bytes]

# Messages sent per pass of the pacing loop at most: big enough to keep up with any
# rate measured here, small enough that the rate stays even within a second.
SLICE = 200
# Seconds between a TCP sender's writes: a shipper's flush interval.
TCP_TICK = 0.01


def paced(
    send_slice: Callable[[int, int], None], total: int, rate: float, tick: float = 0.0
) -> float:
    """Call send_slice(first, end) so that message i leaves at i / rate, or with the first
    wake-up after that when wake-ups are at least tick seconds apart; seconds taken."""
    started = woke = time.monotonic()
    sent = 0
    while sent < total:
        elapsed = time.monotonic() - started
        allowed = total if math.isinf(rate) else int(elapsed * rate) + 1
        due = min(total, allowed, sent + SLICE)
        if due > sent:
            send_slice(sent, due)
            sent = due
        else:
            woke = max(started + sent / rate, woke + tick)
            time.sleep(max(0.0, woke - time.monotonic()))
    return time.monotonic() - started


def send_tcp(
    address: tuple[str, int], frame: Frame, total: int, rate: float, connections: int = 1
) -> float:
    """GELF over TCP (NUL-terminated frames), spread over a few connections; seconds taken."""
    sockets = [socket.create_connection(address, timeout=30) for _ in range(connections)]
    try:

        def send_slice(first: int, end: int) -> None:
            frames = b"".join(frame(seq) + b"\0" for seq in range(first, end))
            sockets[first // SLICE % connections].sendall(frames)

        return paced(send_slice, total, rate, TCP_TICK)
    finally:
        for sock in sockets:
            sock.close()


def send_udp(address: tuple[str, int], frame: Frame, total: int, rate: float) -> float:
    """GELF over UDP, one message per datagram; seconds taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:

        def send_slice(first: int, end: int) -> None:
            for seq in range(first, end):
                sock.sendto(frame(seq), address)

        return paced(send_slice, total, rate)
