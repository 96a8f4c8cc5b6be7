"""Running Ansible through ansible-runner without leaving secrets on disk.

ansible-runner writes extra vars to <private_data_dir>/env/extravars and keeps artifacts
beside them, so each run gets a private data dir inside a fresh 0700 temporary directory
that is removed when the run ends, however it ends. What we keep is written by us, with
secrets masked, into INVENTORY/.runs/<timestamp>/.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from graylog_installer import paths
from graylog_installer.errors import InstallerError
from graylog_installer.files import write_private
from graylog_installer.redact import Redactor
from graylog_installer.text import strip_ansi

EventHandler = Callable[[Mapping[str, Any]], None]


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
    """A runner private data dir that nobody else can read and that never outlives the run."""
    holder = Path(tempfile.mkdtemp(prefix="graylog-installer-"))  # mkdtemp: mode 0700
    try:
        data_dir = holder / "runner"
        data_dir.mkdir(mode=0o700)
        yield data_dir
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _run(log: RunLog, on_event: EventHandler, redactor: Redactor, **kwargs: Any) -> RunOutcome:
    import ansible_runner
    from ansible_runner.exceptions import AnsibleRunnerException, ConfigurationError

    def handler(event: Mapping[str, Any]) -> bool:
        log.record(event)
        on_event(event)
        return False  # we keep our own censored copy; the runner need not write one

    try:
        with private_data_dir() as data_dir:
            result = ansible_runner.run(
                private_data_dir=str(data_dir),
                envvars=paths.ansible_env(),
                quiet=True,
                event_handler=handler,
                **kwargs,
            )
    except (AnsibleRunnerException, ConfigurationError, OSError, ValueError) as exc:
        raise InstallerError(
            f"could not run Ansible: {redactor.text(str(exc))} (log: {log.text_path})"
        ) from None
    finally:
        log.close()
    return RunOutcome(rc=int(result.rc or 0), status=str(result.status), log_path=log.text_path)


def run_playbook(
    inventory: Path,
    extravars: dict[str, Any],
    options: PlaybookOptions,
    run_dir: Path,
    redactor: Redactor,
    on_event: EventHandler,
    playbook: Path | None = None,
) -> RunOutcome:
    """Run site.yml (or ``playbook``) against the inventory; events go to ``on_event``."""
    play = (playbook or paths.playbook_path()).resolve()
    log = RunLog(run_dir, "ansible", redactor)
    cmdline = options.cmdline()
    return _run(
        log,
        on_event,
        redactor,
        playbook=str(play),
        inventory=str(paths.hosts_file(inventory.resolve())),
        extravars=dict(extravars),
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
    """An ad-hoc module run (read-only modules only: preflight must change nothing)."""
    log = RunLog(run_dir, log_name, redactor)
    return _run(
        log,
        on_event,
        redactor,
        host_pattern=pattern,
        module=module,
        module_args=module_args,
        inventory=str(paths.hosts_file(inventory.resolve())),
    )
