"""Running Ansible through ansible-runner without leaving secrets on disk.

No secret is ever handed to ansible-runner: it would write extra vars to
<private_data_dir>/env/extravars, and a run killed with SIGKILL runs no cleanup code.
ansible-playbook reads the secrets itself from the inventory's own 0600 (or vaulted)
secrets file (``-e @INVENTORY/secrets.yml``), so no copy of them exists anywhere.

What ansible-runner and Ansible do write (settings, facts, Ansible's local temp files,
in which a rendered template can briefly hold a secret) stays in one 0700 temporary
directory per run, removed when the run ends; one a killed run left behind is removed
by the next run. ansible-playbook runs in a session of its own (a pty): it is told to
stop when the installer dies, so a killed installer leaves no Ansible converging alone.
What we keep is written by us, with secrets masked, into INVENTORY/.runs/<timestamp>/.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from graylog_installer import paths
from graylog_installer.errors import InstallerError, Interrupted
from graylog_installer.files import write_private
from graylog_installer.redact import Redactor
from graylog_installer.text import strip_ansi

EventHandler = Callable[[Mapping[str, Any]], None]

TEMP_PREFIX = "graylog-installer-"
# How often (seconds) ansible-runner asks whether to stop: the delay before Ctrl-C takes effect.
CANCEL_POLL = 1


@dataclass(frozen=True)
class PlaybookOptions:
    """Flags passed through to ansible-playbook unchanged."""

    check: bool = False
    diff: bool = False
    limit: str | None = None
    tags: str | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None

    def cmdline(self) -> list[str]:
        args: list[str] = []
        if self.check:
            args.append("--check")
        if self.diff:
            args.append("--diff")
        if self.limit:
            args += ["--limit", self.limit]
        if self.tags:
            args += ["--tags", self.tags]
        if self.verbosity:
            args.append("-" + "v" * self.verbosity)
        if self.vault_password_file:
            args += ["--vault-password-file", str(self.vault_password_file.resolve())]
        return args


@dataclass(frozen=True)
class RunOutcome:
    rc: int
    status: str
    log_path: Path

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0


class RunLog:
    """The censored record of one Ansible run: readable text plus one JSON event per line."""

    def __init__(self, run_dir: Path, name: str, redactor: Redactor) -> None:
        self.text_path = run_dir / f"{name}.log"
        self.events_path = run_dir / f"{name}.events.jsonl"
        self._redactor = redactor
        # Create both files 0600 before the first line is written.
        write_private(self.text_path, b"")
        write_private(self.events_path, b"")
        self._text: TextIO = self.text_path.open("a", encoding="utf-8")
        self._events: TextIO = self.events_path.open("a", encoding="utf-8")

    def record(self, event: Mapping[str, Any]) -> None:
        stdout = event.get("stdout")
        if stdout:
            self._text.write(self._redactor.text(strip_ansi(stdout)) + "\n")
            self._text.flush()
        self._events.write(self._redactor.json_line(event) + "\n")
        self._events.flush()

    def close(self) -> None:
        self._text.close()
        self._events.close()


@contextmanager
def private_data_dir() -> Iterator[Path]:
    """A runner private data dir that nobody else can read and that never outlives the run.

    The holder's name carries our process id: a later run removes holders whose process is
    gone (killed before its ``finally`` could run).
    """
    remove_stale_holders()
    holder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))  # mode 0700
    try:
        data_dir = holder / "runner"
        data_dir.mkdir(mode=0o700)
        yield data_dir
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def remove_stale_holders(parent: Path | None = None) -> list[Path]:
    """Remove our temporary directories whose installer process no longer exists."""
    removed = []
    for holder in Path(parent or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = holder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or not holder.is_dir() or holder.is_symlink():
            continue
        try:
            if holder.stat().st_uid != os.getuid() or _alive(int(pid)):
                continue
        except OSError:  # removed meanwhile by another run
            continue
        shutil.rmtree(holder, ignore_errors=True)
        removed.append(holder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _stop_with_parent(parent: int) -> None:
    """In ansible-playbook's process, before exec: get SIGINT when the installer dies.

    SIGINT is Ansible's own way to stop: it ends its workers and removes its temp files.
    Linux only (prctl); elsewhere a killed installer still leaves Ansible running.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # it may be ignored (started with '&')
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGINT))
        if os.getppid() != parent:  # the installer died before prctl took effect
            os._exit(1)


@contextmanager
def _children_stop_with_us() -> Iterator[None]:
    """ansible-runner starts ansible-playbook through pexpect, which takes no such option
    from it: give every spawn of this run our pre-exec step."""
    import pexpect

    original = pexpect.spawn

    def spawn(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("preexec_fn", functools.partial(_stop_with_parent, os.getpid()))
        return original(*args, **kwargs)

    pexpect.spawn = spawn  # type: ignore[misc]
    try:
        yield
    finally:
        pexpect.spawn = original  # type: ignore[misc]


@contextmanager
def _signals_cancel_the_run() -> Iterator[list[int]]:
    """Ctrl-C or SIGTERM during a run: stop Ansible (its whole process group), then report.

    The first signal is noted, not raised: ansible-runner polls ``cancel_callback`` and
    kills ansible-playbook's process group, and our ``finally`` blocks still run. A second
    one does not wait for that.
    """
    received: list[int] = []

    def note(signum: int, _frame: Any) -> None:
        if received:
            raise Interrupted(signum)
        received.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def host_event(event: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]] | None:
    """(host, event kind, module result) of an event about one host, else None."""
    data = event.get("event_data") or {}
    host = data.get("host")
    if not host:
        return None
    return str(host), str(event.get("event")), data.get("res") or {}


def _run(
    log: RunLog,
    on_event: EventHandler,
    redactor: Redactor,
    environment: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> RunOutcome:
    import ansible_runner
    from ansible_runner.exceptions import AnsibleRunnerException, ConfigurationError

    def handler(event: Mapping[str, Any]) -> bool:
        log.record(event)
        on_event(event)
        return False  # we keep our own censored copy; the runner need not write one

    try:
        with (
            private_data_dir() as data_dir,
            _signals_cancel_the_run() as received,
            _children_stop_with_us(),
        ):
            result = ansible_runner.run(
                private_data_dir=str(data_dir),
                # Ansible's own temp files (rendered templates...) go to the private dir too.
                envvars={
                    **paths.ansible_env(),
                    "ANSIBLE_LOCAL_TEMP": str(data_dir / "tmp"),
                    **(environment or {}),
                },
                # No raw copy of Ansible's output: our censored log is the record.
                settings={"suppress_output_file": True, "pexpect_timeout": CANCEL_POLL},
                quiet=True,
                event_handler=handler,
                cancel_callback=lambda: bool(received),
                **kwargs,
            )
    except (AnsibleRunnerException, ConfigurationError, OSError, ValueError) as exc:
        raise InstallerError(
            f"could not run Ansible: {redactor.text(str(exc))} (log: {log.text_path})"
        ) from None
    finally:
        log.close()
    if received:
        raise Interrupted(
            received[0],
            "Ansible was stopped midway; the hosts may be half configured: run the same "
            f"command again to finish (log: {log.text_path})",
        )
    return RunOutcome(rc=int(result.rc or 0), status=str(result.status), log_path=log.text_path)


def run_playbook(
    inventory: Path,
    extravars: dict[str, Any],
    options: PlaybookOptions,
    run_dir: Path,
    redactor: Redactor,
    on_event: EventHandler,
    playbook: Path | None = None,
    vars_files: Sequence[Path] = (),
) -> RunOutcome:
    """Run site.yml (or ``playbook``) against the inventory; events go to ``on_event``.

    ``extravars`` must hold no secret (ansible-runner writes them to a file); secrets come
    from ``vars_files``, which ansible-playbook reads itself (``-e @FILE``).
    """
    play = (playbook or paths.playbook_path()).resolve()
    log = RunLog(run_dir, "ansible", redactor)
    cmdline = options.cmdline()
    for path in vars_files:
        cmdline += ["--extra-vars", f"@{path.resolve()}"]
    return _run(
        log,
        on_event,
        redactor,
        playbook=str(play),
        inventory=str(paths.hosts_file(inventory.resolve())),
        extravars=dict(extravars) or None,
        cmdline=shlex.join(cmdline) if cmdline else None,
    )


def run_module(
    inventory: Path,
    module: str,
    module_args: str,
    run_dir: Path,
    redactor: Redactor,
    on_event: EventHandler,
    pattern: str = "all",
    log_name: str = "preflight",
) -> RunOutcome:
    """An ad-hoc module run (read-only modules only: preflight must change nothing).

    Stock Ansible runs it, not ansible.cfg's Mitogen: the probes use ``raw`` on hosts
    that may have no Python yet, and Mitogen needs Python even for ``raw``.
    """
    log = RunLog(run_dir, log_name, redactor)
    return _run(
        log,
        on_event,
        redactor,
        environment={"ANSIBLE_STRATEGY": "linear"},
        host_pattern=pattern,
        module=module,
        module_args=module_args,
        inventory=str(paths.hosts_file(inventory.resolve())),
    )
