"""The event -> progress reducer and what it renders, driven by runner-shaped events."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console, RenderableType

from graylog_installer import progress
from graylog_installer.progress import LiveDisplay, initial_state, module_message, reduce

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def ev(kind: str, stdout: str = "", **data: Any) -> dict[str, Any]:
    return {"event": kind, "uuid": "u", "counter": 1, "stdout": stdout, "event_data": data}


def play(name: str) -> dict[str, Any]:
    return ev("playbook_on_play_start", play=name, name=name, pattern="all")


def task(name: str, play_name: str = "MongoDB") -> dict[str, Any]:
    return ev("playbook_on_task_start", task=name, name=name, play=play_name)


def result(kind: str, host: str, task_name: str = "t", **res: Any) -> dict[str, Any]:
    return ev(kind, host=host, task=task_name, play="MongoDB", res=res)


def fold(events: list[dict[str, Any]], hosts: list[str] | None = None, total: int | None = None):
    state = initial_state(hosts or ["h1", "h2"], total)
    for event in events:
        state = reduce(state, event)
    return state


def test_play_and_task_starts_track_position() -> None:
    state = fold([play("MongoDB"), task("mongodb : install"), task("mongodb : configure")])
    assert state.play == "MongoDB"
    assert state.task == "mongodb : configure"
    assert state.tasks_started == 2


def test_handler_tasks_count_as_tasks() -> None:
    state = fold([task("a"), ev("playbook_on_handler_task_start", task="restart mongodb")])
    assert state.tasks_started == 2 and state.task == "restart mongodb"


def test_results_count_per_host() -> None:
    state = fold(
        [
            task("a"),
            result("runner_on_ok", "h1", changed=False),
            result("runner_on_ok", "h2", changed=True),
            task("b"),
            result("runner_on_skipped", "h1"),
            result("runner_on_failed", "h2", msg="apt failed"),
        ]
    )
    assert state.counts["h1"] == progress.HostCounts(ok=1, skipped=1)
    assert state.counts["h2"] == progress.HostCounts(ok=1, changed=1, failed=1)
    assert state.failures[0].message == "apt failed" and state.failures[0].host == "h2"
    assert state.failed_hosts() == ["h2"]


def test_task_hosts_done_resets_on_each_task() -> None:
    state = fold([task("a"), result("runner_on_ok", "h1"), result("runner_on_ok", "h2")])
    assert state.task_hosts_done == {"h1", "h2"}
    state = reduce(state, task("b"))
    assert state.task_hosts_done == frozenset()


def test_ignored_failure_is_not_a_failure() -> None:
    ignored = ev("runner_on_failed", host="h1", res={"msg": "x"}, ignore_errors=True)
    state = fold([task("a"), ignored])
    assert state.failures == () and state.counts["h1"].failed == 0


def test_unreachable_is_recorded_with_reason() -> None:
    unreachable = result("runner_on_unreachable", "h2", msg="ssh: refused")
    state = fold([task("Gathering Facts"), unreachable])
    assert state.counts["h2"].unreachable == 1
    assert state.failures[0].unreachable and "refused" in state.failures[0].message


def test_unknown_hosts_are_added_and_starts_count_nothing() -> None:
    state = fold([task("a"), result("runner_on_ok", "new"), ev("runner_on_start", host="h1")])
    assert state.hosts == ("h1", "h2", "new")
    assert state.counts["h1"] == progress.HostCounts()
    state = reduce(state, ev("runner_on_start", host="late", task="a"))
    assert state.hosts[-1] == "late" and state.counts["late"] == progress.HostCounts()


def test_reduce_does_not_mutate_its_input() -> None:
    before = fold([task("a")])
    snapshot = (before.tasks_started, dict(before.counts), before.failures)
    reduce(before, result("runner_on_failed", "h1", msg="boom"))
    assert (before.tasks_started, dict(before.counts), before.failures) == snapshot


def test_stats_are_authoritative_and_drop_rescued_failures() -> None:
    state = fold(
        [
            task("probe"),
            result("runner_on_failed", "h1", "probe", msg="rescued later"),
            task("start"),
            result("runner_on_failed", "h2", "start", msg="service did not start"),
            ev(
                "playbook_on_stats",
                ok={"h1": 7, "h2": 3},
                changed={"h1": 2},
                failures={"h2": 1},
                dark={},
                skipped={"h1": 1},
                processed={"h1": 1, "h2": 1},
            ),
        ]
    )
    assert state.finished
    assert state.counts["h1"] == progress.HostCounts(ok=7, changed=2, skipped=1)
    assert [f.host for f in state.failures] == ["h2"]


def test_failure_sentence_names_playbook_host_task_message_and_log() -> None:
    state = fold(
        [
            play("Graylog master"),
            task("graylog : start graylog-server", "Graylog master"),
            ev(
                "runner_on_failed",
                host="h1",
                task="graylog : start graylog-server",
                play="Graylog master",
                res={"msg": "Unable to start service graylog-server"},
            ),
        ]
    )
    sentence = progress.failure_sentence(state, "site.yml", "/inv/.runs/1/ansible.log", 2)
    assert sentence == (
        "site.yml failed on host h1 at task 'graylog : start graylog-server' "
        "(play 'Graylog master'): Unable to start service graylog-server. "
        "Full log: /inv/.runs/1/ansible.log"
    )


def test_failure_sentence_gives_the_rescues_message_not_the_rescued_failure() -> None:
    # The graylog role's ALIVE poll is rescued by a task that fails saying where to look.
    state = fold(
        [
            task("graylog : Poll until ALIVE"),
            result("runner_on_failed", "h1", "graylog : Poll until ALIVE", msg="refused"),
            task("graylog : Say that the node never got ALIVE"),
            result(
                "runner_on_failed",
                "h1",
                "graylog : Say that the node never got ALIVE",
                msg="graylog-server did not report ALIVE; its log says why.",
            ),
            ev("playbook_on_stats", ok={"h1": 9}, failures={"h1": 1}, dark={}, processed={"h1": 1}),
        ]
    )
    sentence = progress.failure_sentence(state, "site.yml", "log", 2)
    assert "at task 'graylog : Say that the node never got ALIVE'" in sentence
    assert "graylog-server did not report ALIVE; its log says why." in sentence
    assert "refused" not in sentence


def test_failure_sentence_counts_other_failed_hosts() -> None:
    state = fold(
        [
            task("a"),
            result("runner_on_unreachable", "h1", msg="timeout"),
            result("runner_on_failed", "h2", msg="x"),
        ]
    )
    sentence = progress.failure_sentence(state, "site.yml", "log", 4)
    assert "could not reach host h1" in sentence and "1 more host(s) failed: h2" in sentence


def test_failure_without_task_uses_ansible_error_text() -> None:
    lines = [
        "ERROR! We were unable to read either as JSON nor YAML, these are the errors we got:",
        "Syntax Error while loading YAML.",
        "  did not find expected key",
        "The error appears to be in '/repo/playbooks/site.yml': line 7, column 3, but may",
    ]
    state = fold([ev("verbose", stdout=line) for line in lines])
    sentence = progress.failure_sentence(state, "site.yml", "log", 4)
    assert "YAML syntax error: did not find expected key (line 7, column 3)" in sentence
    assert progress.failure_sentence(fold([]), "site.yml", "log", 4).startswith(
        "site.yml failed: ansible-playbook exited with code 4"
    )


def test_module_message_variants() -> None:
    assert module_message({"msg": "non-zero return code", "rc": 1, "stderr": "E: no pkg"}) == (
        "non-zero return code: E: no pkg"
    )
    assert (
        module_message(
            {
                "results": [
                    {"failed": False, "msg": "ok"},
                    {"failed": True, "msg": "item 2 broke"},
                ],
                "msg": "One or more items failed",
            }
        )
        == "item 2 broke"
    )
    assert "no_log" in module_message({"censored": "hidden due to no_log: true"})
    assert module_message({}) == "no message from the module"
    refused = {"msg": "failed to validate", "exit_status": 1, "stderr": 'nginx: [emerg] "x"'}
    assert module_message(refused) == 'failed to validate: nginx: [emerg] "x"'
    assert module_message({"msg": "line one\n  line two"}) == "line one line two"


def test_status_line_shows_elapsed_tasks_hosts_and_position() -> None:
    state = fold(
        [play("Elasticsearch"), task("elasticsearch : install"), result("runner_on_ok", "h1")],
        total=40,
    )
    line = progress.status_line(state, 75)
    assert line == "[01:15] tasks 1/40 | 1/2 hosts | Elasticsearch > elasticsearch : install"
    assert progress.format_elapsed(3725) == "1:02:05"


def test_status_line_without_total_and_with_failures() -> None:
    state = fold([task("a"), result("runner_on_failed", "h2", msg="x")])
    assert "tasks 1 |" in progress.status_line(state, 0)
    assert "1 failed" in progress.status_line(state, 0)


def test_status_line_after_the_recap_says_finished() -> None:
    state = fold([task("a"), ev("playbook_on_stats", ok={"h1": 1, "h2": 1})], total=1)
    assert progress.status_line(state, 61) == "[01:01] tasks 1/1 | 2 hosts | finished"


# ---- one row per host ----------------------------------------------------------------------


def role_task(name: str, role: str = "mongodb") -> dict[str, Any]:
    """A task start as ansible-runner sends it: "name" has the role prefix, "task" has not."""
    return ev("playbook_on_task_start", name=f"{role} : {name}", task=name, role=role)


def on(kind: str, host: str, name: str, role: str = "mongodb", **res: Any) -> dict[str, Any]:
    """A per-host event (runner_on_start, runner_on_ok...) as ansible-runner sends it."""
    return ev(kind, host=host, task=name, role=role, play="MongoDB", res=res)


def render(renderable: RenderableType, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, record=True)
    console.print(renderable)
    return console.export_text()


def row(text: str, host: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.split()[:1] == [host])


def test_each_host_tracks_its_current_task() -> None:
    state = fold([play("MongoDB"), role_task("install"), on("runner_on_start", "h1", "install")])
    assert state.task == "mongodb : install"
    assert state.host_tasks == {"h1": "mongodb : install"} and state.running == {"h1"}
    assert [progress.host_status(state, h) for h in ("h1", "h2")] == ["running", "waiting"]
    state = reduce(state, on("runner_on_ok", "h1", "install"))
    assert state.running == frozenset() and state.host_tasks["h1"] == "mongodb : install"
    assert progress.host_status(state, "h1") == "waiting"


def test_host_status_after_failures_and_the_recap() -> None:
    state = fold(
        [
            task("a"),
            on("runner_on_start", "h1", "a"),
            on("runner_on_failed", "h1", "a", msg="x"),
            on("runner_on_start", "h2", "a"),
            on("runner_on_unreachable", "h3", "a", msg="y"),
        ],
        hosts=["h1", "h2", "h3"],
    )
    assert [progress.host_status(state, h) for h in state.hosts] == ["failed", "running", "failed"]
    recap = ev("playbook_on_stats", ok={"h1": 1, "h2": 2}, failures={"h1": 1}, dark={"h3": 1})
    state = reduce(state, recap)
    assert [progress.host_status(state, h) for h in state.hosts] == ["failed", "done", "failed"]
    assert state.running == frozenset()


def mongodb_run() -> progress.ProgressState:
    """h1 is installing, h2 failed the task before, h3 has not started."""
    return fold(
        [
            play("MongoDB"),
            role_task("install"),
            on("runner_on_start", "h1", "install"),
            on("runner_on_start", "h2", "install"),
            on("runner_on_ok", "h1", "install", changed=True),
            on("runner_on_ok", "h2", "install"),
            role_task("configure"),
            on("runner_on_start", "h1", "configure"),
            on("runner_on_start", "h2", "configure"),
            on("runner_on_failed", "h2", "configure", msg="mongod.conf: bad key"),
        ],
        hosts=["h1", "h2", "h3"],
        total=40,
    )


def test_host_table_has_a_row_per_host_with_state_counts_and_task() -> None:
    text = render(progress.host_table(mongodb_run()))
    assert text.splitlines()[0].split() == [
        "HOST", "STATE", "OK", "CHANGED", "FAILED", "UNREACH", "TASK"
    ]  # fmt: skip
    assert row(text, "h1") == ["h1", "running", "1", "1", "0", "0", "mongodb", ":", "configure"]
    assert row(text, "h2") == ["h2", "failed", "1", "0", "1", "0", "mongodb", ":", "configure"]
    assert row(text, "h3") == ["h3", "waiting", "0", "0", "0", "0"]


def test_progress_view_puts_the_overall_line_above_the_table() -> None:
    lines = render(progress.progress_view(mongodb_run(), 75)).splitlines()
    assert (
        lines[0].rstrip()
        == "[01:15] tasks 2/40 | 1/3 hosts, 1 failed | MongoDB > mongodb : configure"
    )
    assert lines[1].split()[0] == "HOST"


def test_a_short_screen_keeps_failed_and_running_hosts() -> None:
    state = fold(
        [task("a"), on("runner_on_start", "h5", "a"), on("runner_on_failed", "h4", "a", msg="x")],
        hosts=[f"h{i}" for i in range(1, 7)],
    )
    text = render(progress.host_table(state, max_rows=3))
    assert [line.split()[0] for line in text.splitlines() if line.startswith("h")] == ["h4", "h5"]
    assert "(+4 more hosts)" in text
    assert len(render(progress.host_table(state)).splitlines()) == 2 + 6


def test_names_are_shown_literally_never_read_as_markup() -> None:
    state = fold([task("x"), on("runner_on_start", "h1", "[bold]x[/bogus] :smile:", role=None)])
    assert row(render(progress.host_table(state)), "h1")[-2:] == ["[bold]x[/bogus]", ":smile:"]


def test_a_long_task_is_cut_on_one_line_not_wrapped() -> None:
    state = fold([task("x"), on("runner_on_start", "h1", "word " * 40, role=None)])
    lines = render(progress.host_table(state), width=80).splitlines()
    assert len(lines) == 4 and lines[2].rstrip().endswith("…")
    assert row("\n".join(lines), "h1")[:2] == ["h1", "running"]


# ---- the displays --------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_display_prints_one_line_per_task_and_failures() -> None:
    out = io.StringIO()
    ticks = iter([0.0, 5.0, 6.0, 7.0, 8.0])
    display = LiveDisplay(initial_state(["h1"], 3), out, tty=False, clock=lambda: next(ticks))
    with display:
        display.handle(play("Nginx"))
        display.handle(task("nginx : install"))
        display.handle(result("runner_on_failed", "h1", msg="boom"))
    assert out.getvalue().splitlines() == [
        "[00:05] PLAY Nginx",
        "[00:06] TASK 1/3 nginx : install",
        "[00:07]   FAILED h1: boom",
    ]


def test_a_pipe_or_a_dumb_terminal_gets_plain_lines_without_escape_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert progress.is_terminal(FakeTerminal()) and not progress.is_terminal(io.StringIO())
    monkeypatch.setenv("TERM", "dumb")
    for out in (io.StringIO(), FakeTerminal()):
        display = LiveDisplay(initial_state(["h1", "h2"]), out, clock=lambda: 0.0)
        with display:
            for event in (play("Nginx"), task("nginx : install"), result("runner_on_ok", "h1")):
                display.handle(event)
            display.handle(result("runner_on_unreachable", "h2", msg="ssh: refused"))
        assert "\x1b" not in out.getvalue()
        assert out.getvalue().splitlines()[-1] == "[00:00]   UNREACHABLE h2: ssh: refused"


def test_terminal_display_is_a_live_table_whose_final_frame_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    class SpyLive(progress.Live):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.update(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(progress, "Live", SpyLive)
    out = FakeTerminal()
    display = LiveDisplay(initial_state(["h1", "h2"], 1), out, clock=lambda: 0.0, width=100)
    with display:
        display.handle(play("MongoDB"))
        display.handle(role_task("install"))
        for host in ("h1", "h2"):
            display.handle(on("runner_on_start", host, "install"))
        display.handle(on("runner_on_ok", "h1", "install"))
        display.handle(on("runner_on_failed", "h2", "install", msg="no such package"))
        display.handle(ev("playbook_on_stats", ok={"h1": 1}, failures={"h2": 1}))
    assert 0 < seen["refresh_per_second"] <= 4 and not seen["transient"]
    text = out.getvalue()
    # rich erases the previous frame (ESC[2K per line) before drawing the next one.
    final = ANSI.sub("", text.rsplit("\x1b[2K", 1)[-1])
    assert final.splitlines()[0].rstrip() == "[00:00] tasks 1/1 | 2 hosts, 1 failed | finished"
    assert row(final, "h1") == ["h1", "done", "1", "0", "0", "0", "mongodb", ":", "install"]
    assert row(final, "h2") == ["h2", "failed", "0", "0", "1", "0", "mongodb", ":", "install"]
    # The failure is printed once, above a table that already shows it, and the cursor is
    # given back at the end.
    assert ANSI.sub("", text).count("[00:00]   FAILED h2: no such package\n") == 1
    below = text.split("no such package", 1)[1].split("\x1b[2K", 1)[0]
    assert row(ANSI.sub("", below), "h2")[:2] == ["h2", "failed"]
    assert text.endswith("\n\x1b[?25h")


def test_a_short_terminal_shows_failed_hosts_first_then_every_host_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINES", "8")  # room for 4 host rows
    hosts = [f"h{i}" for i in range(1, 9)]
    out = FakeTerminal()
    display = LiveDisplay(initial_state(hosts), out, tty=True, clock=lambda: 0.0, width=100)

    def shown_hosts() -> list[str]:
        frame = ANSI.sub("", out.getvalue().rsplit("\x1b[2K", 1)[-1])
        return [line.split()[0] for line in frame.splitlines() if line.startswith("h")]

    with display:
        display.handle(task("a"))
        display.handle(on("runner_on_failed", "h8", "a", msg="x"))
        assert shown_hosts() == ["h1", "h2", "h8"] and "(+5 more hosts)" in out.getvalue()
    assert shown_hosts() == hosts


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "plain"])
def test_a_secret_in_a_task_name_never_reaches_the_screen(tty: bool) -> None:
    def censor(text: str) -> str:
        return text.replace("S3cr3t", "****")

    out = io.StringIO()
    display = LiveDisplay(initial_state(["h1"]), out, tty=tty, clock=lambda: 0.0, censor=censor)
    with display:
        display.handle(play("Graylog S3cr3t"))
        display.handle(task("debug S3cr3t"))
        display.handle(on("runner_on_start", "h1", "debug S3cr3t", role=None))
        display.handle(on("runner_on_failed", "h1", "debug S3cr3t", role=None, msg="S3cr3t"))
    text = out.getvalue()
    assert "S3cr3t" not in text
    assert "debug ****" in ANSI.sub("", text) and "FAILED h1: ****" in ANSI.sub("", text)
    # The same holds for the pure renderers, host names included.
    state = fold([task("debug S3cr3t"), on("runner_on_start", "S3cr3t-host", "S3cr3t")])
    for renderable in (
        progress.progress_view(state, 0, censor),
        progress.summary_table(state, censor),
    ):
        shown = render(renderable)
        assert "S3cr3t" not in shown and "****" in shown


# ---- the summary ---------------------------------------------------------------------------


def recap() -> progress.ProgressState:
    return fold(
        [
            ev(
                "playbook_on_stats",
                ok={"h1": 12, "h2": 3},
                changed={"h1": 4},
                failures={"h2": 1},
                dark={},
                skipped={"h1": 2},
            )
        ]
    )


def test_summary_is_a_plain_table_in_a_log() -> None:
    out = io.StringIO()
    progress.print_summary(recap(), out)
    text = out.getvalue()
    assert "\x1b" not in text
    lines = [line.split() for line in text.splitlines()]
    assert lines[0] == ["HOST", "OK", "CHANGED", "FAILED", "UNREACHABLE", "SKIPPED"]
    assert lines[2:] == [["h1", "12", "4", "0", "0", "2"], ["h2", "3", "0", "1", "0", "0"]]


def test_summary_has_colours_on_a_terminal_and_the_same_cells() -> None:
    out = io.StringIO()
    progress.print_summary(recap(), out, censor=str.upper, tty=True, width=100)
    text = out.getvalue()
    assert "\x1b[" in text
    assert row(ANSI.sub("", text), "H2") == ["H2", "3", "0", "1", "0", "0"]
