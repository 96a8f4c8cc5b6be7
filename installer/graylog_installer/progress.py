"""From ansible-runner events to what the operator sees.

``reduce`` is a pure function (state, event) -> state, so the display logic can be tested
with recorded-looking events. Rendering functions turn a state into text or into rich
renderables (one row per host); every text they show passes through a ``censor`` callable,
so a secret that slips into an event never reaches the screen. The impure part lives in
LiveDisplay: a rich Live table on a terminal, plain lines anywhere else (CI, pipes, logs).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from graylog_installer.text import summarise_ansible_error

Censor = Callable[[str], str]

TASK_START_EVENTS = ("playbook_on_task_start", "playbook_on_handler_task_start")
MAX_MESSAGE = 400
MAX_ERROR_LINES = 40
# Redraws per second of the live table: enough for a moving clock, little for the terminal.
REFRESH_PER_SECOND = 4
# Screen lines the live view needs around its host rows (overall line, header, rule, margin).
LIVE_CHROME_LINES = 4
MIN_LIVE_ROWS = 3
# A log has no width: a table printed there is as wide as its content, never wrapped at 80.
PLAIN_WIDTH = 1000

WAITING = "waiting"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
_STATUS_STYLE = {WAITING: "dim", RUNNING: "cyan", DONE: "green", FAILED: "bold red"}
# Which rows a screen too short for every host keeps first.
_STATUS_RANK = {FAILED: 0, RUNNING: 1, WAITING: 2, DONE: 3}


def _same(text: str) -> str:
    return text


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
    # Each host's current task, or its last one once it has reported the result.
    host_tasks: Mapping[str, str] = field(default_factory=dict)
    # Hosts working on a task right now (started, no result yet).
    running: frozenset[str] = frozenset()
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
            # "name" carries the role prefix ("mongodb : install"); "task" does not.
            task=data.get("name") or task_label(data),
            tasks_started=state.tasks_started + 1,
            task_hosts_done=frozenset(),
        )
    # The task start carries no host: each host's own start says what it works on.
    if kind == "runner_on_start" and data.get("host"):
        return _host_start(state, data)
    if kind.startswith("runner_on_") and data.get("host"):
        return _host_result(state, kind, data)
    if kind == "playbook_on_stats":
        return _final_stats(state, data)
    if kind in ("error", "verbose"):
        return _error_text(state, str(event.get("stdout") or ""))
    return state


def task_label(data: Mapping[str, Any]) -> str:
    """'role : task' as ansible-playbook prints it, from a runner event's data."""
    task = str(data.get("task") or data.get("name") or "")
    role = data.get("role")
    if task and role and not task.startswith(f"{role} : "):
        return f"{role} : {task}"
    return task


def _error_text(state: ProgressState, stdout: str) -> ProgressState:
    if "ERROR!" in stdout:
        return replace(state, error_lines=(stdout,))
    if state.error_lines and len(state.error_lines) < MAX_ERROR_LINES:
        return replace(state, error_lines=(*state.error_lines, stdout))
    return state


def _with_host(state: ProgressState, host: str) -> ProgressState:
    """Hosts the inventory did not announce (added by add_host, say) get a row too."""
    if host in state.hosts:
        return state
    return replace(state, hosts=(*state.hosts, host), counts={**state.counts, host: HostCounts()})


def _host_start(state: ProgressState, data: Mapping[str, Any]) -> ProgressState:
    host = str(data["host"])
    state = _with_host(state, host)
    label = task_label(data) or state.task or "?"
    return replace(
        state,
        host_tasks={**state.host_tasks, host: label},
        running=state.running | {host},
    )


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
    else:  # async polls and the like: the task's final event carries the result
        return state
    state = _with_host(state, host)
    label = task_label(data) or state.host_tasks.get(host) or state.task or "?"
    return replace(
        state,
        counts={**state.counts, host: counts},
        host_tasks={**state.host_tasks, host: label},
        running=state.running - {host},
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
        task=task_label(data) or state.task or "?",
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
    # Commands fail with msg "non-zero return code", a file a checker refused (validate:)
    # with "failed to validate": their stderr says why.
    detail = next((str(result[k]) for k in ("stderr", "module_stderr") if result.get(k)), "")
    if not message or (detail and ("return code" in message or message == "failed to validate")):
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
    return replace(
        state,
        hosts=tuple(names),
        counts=counts,
        running=frozenset(),
        failures=failures,
        finished=True,
    )


def host_status(state: ProgressState, host: str) -> str:
    """waiting, running, done or failed (an unreachable host has failed too)."""
    counts = state.counts.get(host, HostCounts())
    if counts.failed or counts.unreachable:
        return FAILED
    if state.finished:
        return DONE
    return RUNNING if host in state.running else WAITING


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
    """The overall line: elapsed time, tasks done (of expected), hosts, where the run is."""
    if state.finished:
        hosts, where = f"{len(state.hosts)} hosts", "finished"
    else:
        hosts = f"{len(state.task_hosts_done)}/{len(state.hosts)} hosts"
        where = " > ".join(part for part in (state.play, state.task) if part) or "starting"
    failed = len(state.failed_hosts())
    tail = f", {failed} failed" if failed else ""
    return f"[{format_elapsed(elapsed)}] tasks {tasks_fraction(state)} | {hosts}{tail} | {where}"


def _cell(censor: Censor, value: object, style: str = "", cut: bool = False) -> Text:
    # Text, not str: rich would read "[...]" in a task name as markup. A cut text stays on
    # one line and ends in an ellipsis when the screen is too narrow (no jumping rows).
    text = Text(censor(str(value)), style=style)
    if cut:
        text.no_wrap, text.overflow = True, "ellipsis"
    return text


def _count(censor: Censor, value: int, style: str) -> Text:
    return _cell(censor, value, style if value else "")


def _visible_hosts(state: ProgressState, max_rows: int | None) -> tuple[list[str], int]:
    """The hosts to show in at most ``max_rows`` rows, and how many are left out."""
    hosts = list(state.hosts)
    if max_rows is None or len(hosts) <= max_rows:
        return hosts, 0
    keep = max(max_rows - 1, 1)  # and a line below the table says how many are hidden
    ranked = sorted(hosts, key=lambda h: _STATUS_RANK[host_status(state, h)])[:keep]
    shown = set(ranked)
    return [h for h in hosts if h in shown], len(hosts) - keep


def host_table(state: ProgressState, censor: Censor = _same, max_rows: int | None = None) -> Table:
    """One row per host: its state, result counts so far, and current (or last) task."""
    hosts, hidden = _visible_hosts(state, max_rows)
    more = _cell(censor, f"(+{hidden} more hosts)", "dim") if hidden else None
    # Full width and a fixed STATE width: the layout does not jump from frame to frame.
    # Narrow gaps and short headers leave the task some room on an 80-column screen.
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        header_style="bold",
        caption=more,
        caption_justify="left",
        expand=True,
    )
    # HOST and TASK may be narrowed (their cells are cut, never wrapped); TASK takes the rest.
    table.add_column("HOST")
    table.add_column("STATE", no_wrap=True, min_width=max(map(len, _STATUS_STYLE)))
    for name in ("OK", "CHANGED", "FAILED", "UNREACH"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("TASK", ratio=1)
    for host in hosts:
        counts = state.counts.get(host, HostCounts())
        status = host_status(state, host)
        table.add_row(
            _cell(censor, host, "bold red" if status == FAILED else "", cut=True),
            _cell(censor, status, _STATUS_STYLE[status]),
            _cell(censor, counts.ok),
            _count(censor, counts.changed, "yellow"),
            _count(censor, counts.failed, "bold red"),
            _count(censor, counts.unreachable, "bold red"),
            _cell(censor, state.host_tasks.get(host, ""), "" if status == RUNNING else "dim", True),
        )
    return table


def progress_view(
    state: ProgressState, elapsed: float, censor: Censor = _same, max_rows: int | None = None
) -> Group:
    """What the live display shows: the overall line above the host table."""
    overall = _cell(censor, status_line(state, elapsed), "bold", cut=True)
    return Group(overall, host_table(state, censor, max_rows))


def summary_table(state: ProgressState, censor: Censor = _same) -> Table:
    """Ansible's recap, one row per host."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("HOST", no_wrap=True)
    for name in ("OK", "CHANGED", "FAILED", "UNREACHABLE", "SKIPPED"):
        table.add_column(name, justify="right", no_wrap=True)
    for host, c in state.counts.items():
        bad = c.failed or c.unreachable
        table.add_row(
            _cell(censor, host, "bold red" if bad else "green"),
            _cell(censor, c.ok),
            _count(censor, c.changed, "yellow"),
            _count(censor, c.failed, "bold red"),
            _count(censor, c.unreachable, "bold red"),
            _count(censor, c.skipped, "cyan"),
        )
    return table


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


def is_terminal(stream: TextIO) -> bool:
    """A terminal that can redraw: not a pipe or a file, not TERM=dumb."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return tty and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


def make_console(stream: TextIO, tty: bool | None = None, width: int | None = None) -> Console:
    """A rich Console on ``stream``: colours only on a terminal, never wrapped in a log."""
    tty = is_terminal(stream) if tty is None else tty
    return Console(
        file=stream,
        force_terminal=tty,  # never a colour code in a log, whatever FORCE_COLOR says
        width=width or (None if tty else PLAIN_WIDTH),
        highlight=False,
    )


def print_summary(
    state: ProgressState,
    stream: TextIO,
    censor: Censor = _same,
    tty: bool | None = None,
    width: int | None = None,
) -> None:
    """Print the summary table to ``stream`` (plain text unless it is a terminal)."""
    make_console(stream, tty, width).print(summary_table(state, censor))


class LiveDisplay:
    """A live table, one row per host, on a terminal; plain lines (one per task) elsewhere.

    Use it as a context manager and pass ``handle`` as the runner's event handler. On a
    terminal, rich redraws the table at most REFRESH_PER_SECOND times a second (the clock
    keeps moving during long tasks) and leaves its final frame on screen; failures are
    printed above it as they happen.
    """

    def __init__(
        self,
        state: ProgressState,
        stream: TextIO,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        censor: Censor = _same,
        width: int | None = None,
    ) -> None:
        self.state = state
        self._stream = stream
        self._clock = clock
        self._censor = censor
        self._started = clock()
        tty = is_terminal(stream) if tty is None else tty
        self._console = make_console(stream, True, width) if tty else None
        self._live: Live | None = None
        self._final = False

    def __enter__(self) -> LiveDisplay:
        if self._console is not None:
            self._live = Live(
                console=self._console,
                get_renderable=self._view,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=False,
            )
            self._live.start(refresh=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._final = True  # the frame that stays on screen lists every host
            self._live.stop()
            self._live = None

    def elapsed(self) -> float:
        return self._clock() - self._started

    def handle(self, event: Mapping[str, Any]) -> None:
        # Called from the runner's thread only; rich's refresh thread just reads self.state.
        before = self.state
        self.state = after = reduce(before, event)
        stamp = f"[{format_elapsed(self.elapsed())}]"
        if self._console is None:
            self._write_lines(self._plain_lines(before, after, stamp))
            return
        lines = self._new_failures(before, after, stamp)
        if lines and self._live is not None:
            self._live.refresh()  # the table reprinted below the failure is the current one
        for line in lines:
            self._console.print(_cell(self._censor, line, "red"))  # stays above the table

    def _view(self) -> Group:
        rows = None
        if self._console is not None and not self._final:
            rows = max(self._console.size.height - LIVE_CHROME_LINES, MIN_LIVE_ROWS)
        return progress_view(self.state, self.elapsed(), self._censor, rows)

    def _plain_lines(self, before: ProgressState, after: ProgressState, stamp: str) -> list[str]:
        lines = []
        if after.play != before.play and after.play:
            lines.append(f"{stamp} PLAY {after.play}")
        if after.tasks_started != before.tasks_started:
            lines.append(f"{stamp} TASK {tasks_fraction(after)} {after.task}")
        return lines + self._new_failures(before, after, stamp)

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
