"""The event -> progress reducer and what it renders, driven by runner-shaped events."""

from __future__ import annotations

import io
from typing import Any

from graylog_installer import progress
from graylog_installer.progress import LiveDisplay, initial_state, module_message, reduce


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


def test_unknown_hosts_are_added_and_other_events_ignored() -> None:
    state = fold([task("a"), result("runner_on_ok", "new"), ev("runner_on_start", host="h1")])
    assert state.hosts == ("h1", "h2", "new")
    assert state.counts["h1"] == progress.HostCounts()


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


def test_summary_table_rows() -> None:
    state = fold(
        [
            ev(
                "playbook_on_stats",
                ok={"h1": 12, "h2": 3},
                changed={"h1": 4},
                failures={"h2": 1},
                dark={},
                skipped={},
            )
        ]
    )
    lines = progress.summary_table(state).splitlines()
    assert lines[0].split() == ["HOST", "OK", "CHANGED", "FAILED", "UNREACHABLE", "SKIPPED"]
    assert lines[1].split() == ["h1", "12", "4", "0", "0", "0"]
    assert lines[2].split() == ["h2", "3", "0", "1", "0", "0"]


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


def test_tty_display_keeps_failures_above_the_status_line() -> None:
    out = io.StringIO()
    display = LiveDisplay(initial_state(["h1"]), out, tty=True, clock=lambda: 0.0)
    with display:
        display.handle(task("mongodb : start"))
        display.handle(result("runner_on_failed", "h1", msg="mongod exited"))
    assert "[00:00]   FAILED h1: mongod exited\n" in out.getvalue()


def test_tty_display_redraws_one_censored_line() -> None:
    out = io.StringIO()
    display = LiveDisplay(
        initial_state(["h1"]),
        out,
        tty=True,
        clock=lambda: 0.0,
        censor=lambda s: s.replace("SECRET", "****"),
    )
    with display:
        display.handle(task("debug SECRET"))
    text = out.getvalue()
    assert "\r\x1b[K[00:00] tasks 1 | 0/1 hosts | debug ****" in text
    assert "SECRET" not in text and "\n" not in text
