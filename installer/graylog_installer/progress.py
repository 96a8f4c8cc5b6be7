"""From ansible-runner events to what the operator sees.

``reduce`` is a pure function (state, event) -> state, so the display logic can be tested
with recorded-looking events; rendering functions turn a state into text. The impure part
(a terminal line redrawn every second) lives in LiveDisplay.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from graylog_installer.text import summarise_ansible_error

TASK_START_EVENTS = ("playbook_on_task_start", "playbook_on_handler_task_start")
MAX_MESSAGE = 400
MAX_ERROR_LINES = 40


@dataclass(frozen=True)
class HostCounts:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    play: str
    message: str
    unreachable: bool = False


@dataclass(frozen=True)
class ProgressState:
    hosts: tuple[str, ...] = ()
    play: str | None = None
    task: str | None = None
    tasks_started: int = 0
    tasks_total: int | None = None
    # Hosts that have reported a result for the current task.
    task_hosts_done: frozenset[str] = frozenset()
    counts: Mapping[str, HostCounts] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()
    # Ansible's "ERROR!" text (a playbook that does not load has no failed task).
    error_lines: tuple[str, ...] = ()
    finished: bool = False

    def failed_hosts(self) -> list[str]:
        return [h for h, c in self.counts.items() if c.failed or c.unreachable]


def initial_state(hosts: list[str], tasks_total: int | None = None) -> ProgressState:
    return ProgressState(
        hosts=tuple(hosts),
        tasks_total=tasks_total,
        counts={h: HostCounts() for h in hosts},
    )


def reduce(state: ProgressState, event: Mapping[str, Any]) -> ProgressState:
    """Fold one ansible-runner event into the progress state (never mutates ``state``)."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    if kind == "playbook_on_play_start":
        return replace(state, play=data.get("play") or data.get("name"), task=None)
    if kind in TASK_START_EVENTS:
        return replace(
            state,
            task=data.get("task") or data.get("name"),
            tasks_started=state.tasks_started + 1,
            task_hosts_done=frozenset(),
        )
    if kind.startswith("runner_on_") and data.get("host"):
        return _host_result(state, kind, data)
    if kind == "playbook_on_stats":
        return _final_stats(state, data)
    if kind in ("error", "verbose"):
        return _error_text(state, str(event.get("stdout") or ""))
    return state


def _error_text(state: ProgressState, stdout: str) -> ProgressState:
    if "ERROR!" in stdout:
        return replace(state, error_lines=(stdout,))
    if state.error_lines and len(state.error_lines) < MAX_ERROR_LINES:
        return replace(state, error_lines=(*state.error_lines, stdout))
    return state


def _host_result(state: ProgressState, kind: str, data: Mapping[str, Any]) -> ProgressState:
    host = str(data["host"])
    counts = state.counts.get(host, HostCounts())
    result = data.get("res") or {}
    failures = state.failures
    if kind in ("runner_on_ok", "runner_on_changed"):
        changed = kind == "runner_on_changed" or bool(result.get("changed"))
        counts = replace(counts, ok=counts.ok + 1, changed=counts.changed + int(changed))
    elif kind == "runner_on_failed":
        if data.get("ignore_errors"):
            counts = replace(counts, ok=counts.ok + 1)
        else:
            counts = replace(counts, failed=counts.failed + 1)
            failures += (_failure(state, data, host, result, unreachable=False),)
    elif kind == "runner_on_unreachable":
        counts = replace(counts, unreachable=counts.unreachable + 1)
        failures += (_failure(state, data, host, result, unreachable=True),)
    elif kind == "runner_on_skipped":
        counts = replace(counts, skipped=counts.skipped + 1)
    else:  # runner_on_start, per-item events: the task's final event carries the result
        return state
    hosts = state.hosts if host in state.hosts else (*state.hosts, host)
    return replace(
        state,
        hosts=hosts,
        counts={**state.counts, host: counts},
        failures=failures,
        task_hosts_done=state.task_hosts_done | {host},
    )


def _failure(
    state: ProgressState,
    data: Mapping[str, Any],
    host: str,
    result: Mapping[str, Any],
    unreachable: bool,
) -> Failure:
    return Failure(
        host=host,
        task=str(data.get("task") or state.task or "?"),
        play=str(data.get("play") or state.play or "?"),
        message=module_message(result),
        unreachable=unreachable,
    )


def module_message(result: Mapping[str, Any]) -> str:
    """The one line that explains a failed result, digging into loop items if needed."""
    for item in result.get("results") or []:
        if isinstance(item, Mapping) and item.get("failed"):
            return module_message(item)
    message = next((str(result[k]) for k in ("msg", "reason", "censored") if result.get(k)), "")
    # Commands fail with msg "non-zero return code"; their stderr says why.
    detail = next((str(result[k]) for k in ("stderr", "module_stderr") if result.get(k)), "")
    if not message or (detail and "return code" in message):
        message = f"{message}: {detail}" if message and detail else message or detail
    if not message and result.get("stdout"):
        message = str(result["stdout"])
    return _one_line(message) if message else "no message from the module"


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 3] + "..."


def _final_stats(state: ProgressState, data: Mapping[str, Any]) -> ProgressState:
    """Ansible's recap is authoritative (it knows about rescued and ignored failures)."""

    def per_host(key: str) -> Mapping[str, int]:
        value = data.get(key)
        return value if isinstance(value, Mapping) else {}

    names = list(state.hosts)
    for key in ("ok", "changed", "failures", "dark", "skipped", "processed"):
        names += [h for h in per_host(key) if h not in names]
    counts = {
        h: HostCounts(
            ok=per_host("ok").get(h, 0),
            changed=per_host("changed").get(h, 0),
            failed=per_host("failures").get(h, 0),
            unreachable=per_host("dark").get(h, 0),
            skipped=per_host("skipped").get(h, 0),
        )
        for h in names
    }
    failed = {h for h, c in counts.items() if c.failed or c.unreachable}
    # Drop failures Ansible rescued: their host ended the play without a failure.
    failures = tuple(f for f in state.failures if f.host in failed)
    return replace(state, hosts=tuple(names), counts=counts, failures=failures, finished=True)


# ---- rendering (pure) -------------------------------------------------------------------


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def tasks_fraction(state: ProgressState) -> str:
    if state.tasks_total and state.tasks_started <= state.tasks_total:
        return f"{state.tasks_started}/{state.tasks_total}"
    return str(state.tasks_started)


def status_line(state: ProgressState, elapsed: float) -> str:
    hosts = f"{len(state.task_hosts_done)}/{len(state.hosts)} hosts"
    where = " > ".join(part for part in (state.play, state.task) if part) or "starting"
    failed = len(state.failed_hosts())
    tail = f", {failed} failed" if failed else ""
    return f"[{format_elapsed(elapsed)}] tasks {tasks_fraction(state)} | {hosts}{tail} | {where}"


def summary_table(state: ProgressState) -> str:
    header = ("HOST", "OK", "CHANGED", "FAILED", "UNREACHABLE", "SKIPPED")
    rows = [
        (h, str(c.ok), str(c.changed), str(c.failed), str(c.unreachable), str(c.skipped))
        for h, c in state.counts.items()
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(widths[i + 1]) for i, cell in enumerate(row[1:]))
        return "  ".join([first, *rest])

    return "\n".join(fmt(r) for r in [header, *rows])


def failure_sentence(state: ProgressState, playbook: str, log_path: str, rc: int) -> str:
    """One sentence naming the playbook, host, task, the module's message and the log."""
    failures = state.failures
    if not failures:
        why = (
            summarise_ansible_error("\n".join(state.error_lines))
            if state.error_lines
            else f"ansible-playbook exited with code {rc}"
        )
        return f"{playbook} failed: {why}. Full log: {log_path}"
    # The last failure of the first failed host is what stopped it (earlier ones were rescued).
    host = failures[0].host
    first = [f for f in failures if f.host == host][-1]
    verb = "could not reach" if first.unreachable else "failed on"
    others = sorted({f.host for f in failures} - {host})
    more = f" ({len(others)} more host(s) failed: {', '.join(others)})" if others else ""
    return (
        f"{playbook} {verb} host {host} at task '{first.task}' (play '{first.play}'): "
        f"{first.message}{more}. Full log: {log_path}"
    )


# ---- display (impure) -------------------------------------------------------------------


class LiveDisplay:
    """One redrawn line on a terminal; plain lines (one per task) anywhere else."""

    def __init__(
        self,
        state: ProgressState,
        stream: TextIO,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        censor: Callable[[str], str] = lambda s: s,
    ) -> None:
        self.state = state
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._clock = clock
        self._censor = censor
        self._started = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> LiveDisplay:
        if self._tty:
            # Keep the elapsed time moving during long tasks that emit no events.
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._tty:
            with self._lock:
                self._stream.write("\r\033[K")
                self._stream.flush()

    def elapsed(self) -> float:
        return self._clock() - self._started

    def handle(self, event: Mapping[str, Any]) -> None:
        with self._lock:
            before = self.state
            self.state = reduce(before, event)
            if self._tty:
                self._failure_lines(before, self.state)
                self._redraw()
            else:
                self._plain_lines(before, self.state)

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._redraw()

    def _redraw(self) -> None:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        line = self._censor(status_line(self.state, self.elapsed()))[:width]
        self._stream.write("\r\033[K" + line)
        self._stream.flush()

    def _plain_lines(self, before: ProgressState, after: ProgressState) -> None:
        stamp = f"[{format_elapsed(self.elapsed())}]"
        lines = []
        if after.play != before.play and after.play:
            lines.append(f"{stamp} PLAY {after.play}")
        if after.tasks_started != before.tasks_started:
            lines.append(f"{stamp} TASK {tasks_fraction(after)} {after.task}")
        lines += self._new_failures(before, after, stamp)
        self._write_lines(lines)

    def _failure_lines(self, before: ProgressState, after: ProgressState) -> None:
        lines = self._new_failures(before, after, f"[{format_elapsed(self.elapsed())}]")
        if lines:
            self._stream.write("\r\033[K")  # keep failures on screen above the status line
            self._write_lines(lines)

    @staticmethod
    def _new_failures(before: ProgressState, after: ProgressState, stamp: str) -> list[str]:
        lines = []
        for failure in after.failures[len(before.failures) :]:
            kind = "UNREACHABLE" if failure.unreachable else "FAILED"
            lines.append(f"{stamp}   {kind} {failure.host}: {failure.message}")
        return lines

    def _write_lines(self, lines: list[str]) -> None:
        for line in lines:
            self._stream.write(self._censor(line) + "\n")
        if lines:
            self._stream.flush()
