"""What each sub-command does, in order; cli.py only parses flags and prints errors."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from graylog_installer import (
    dry_run,
    entry_tls,
    git_guard,
    paths,
    preflight,
    progress,
    runner,
    sandbox_home,
    secrets_store,
    state,
    status,
    status_graylog,
    status_probe,
    verify,
)
from graylog_installer.errors import InstallerError, UsageError
from graylog_installer.inventory import Inventory, load_inventory
from graylog_installer.redact import GLOBAL, Redactor
from graylog_installer.scaffold import HostSpec, create_inventory
from graylog_installer.secrets_store import Secrets
from graylog_installer.topology import ENTRY_GROUP
from graylog_installer.validation import Topology, validate
from graylog_installer.vault import load_vault_secret

if TYPE_CHECKING:
    from ansible.parsing.vault import VaultSecret

Report = Callable[[str], None]


@dataclass(frozen=True)
class InstallRequest:
    inventory: Path | None = None
    vault_password_file: Path | None = None
    # Secrets to replace deliberately (secrets_store key names); empty on a normal run.
    rotate: frozenset[str] = frozenset()
    options: runner.PlaybookOptions = field(default_factory=runner.PlaybookOptions)


def protect(value: Secrets, redactor: Redactor = GLOBAL) -> None:
    """From here on, mask these secrets (and the admin password's hash) in all output."""
    digest = hashlib.sha256(value.admin_password.encode()).hexdigest()
    redactor.add([*value.values(), digest])


def choose_inventory(inventory: Path | None, report: Report, check: bool = False) -> Path:
    """The operator's inventory, or the local sandbox's when none is given."""
    if inventory is not None:
        return inventory.expanduser().resolve()
    # Imported here only: the test bed (Docker, debootstrap, the mirror) is no part of an
    # operator's run with -i.
    from graylog_installer import sandbox

    if check:  # a dry run builds and starts nothing, the sandbox included
        return sandbox.running_sandbox_inventory().resolve()
    report("No inventory given: preparing the local Ubuntu 16.04 sandbox")
    return sandbox.prepare_sandbox(report).resolve()


def destroy_sandbox(out: TextIO) -> int:
    from graylog_installer import sandbox  # the test bed, for the sandbox only

    sandbox.destroy_sandbox(lambda line: print(line, file=out, flush=True))
    return 0


def installed_inventory(inventory: Path | None) -> Path:
    """The inventory to read after an install: the operator's, or the sandbox's as it is.

    Reading (verify, secrets show) must not build or start anything, unlike install.
    """
    if inventory is None:
        inventory = sandbox_home.installed_inventory(lambda line: print(line, flush=True))
    return inventory.expanduser().resolve()


def vault_secret_from(password_file: Path | None) -> VaultSecret | None:
    return load_vault_secret(password_file.expanduser()) if password_file else None


def open_inventory(
    directory: Path, vault_secret: VaultSecret | None, report: Report | None = None
) -> Topology:
    inventory = load_inventory(directory, vault_secret)
    if report is not None:
        for warning in inventory.warnings:
            report(f"warning: {warning}")
    return validate(inventory)


def load_existing_secrets(directory: Path, vault_secret: VaultSecret | None) -> Secrets:
    path = paths.secrets_file(directory)
    if not path.exists():
        raise UsageError(f"{path} does not exist yet; run 'graylog-installer install' first")
    value = secrets_store.load(path, vault_secret)
    protect(value)
    return value


# ---- init ---------------------------------------------------------------------------------


def init(
    directory: Path,
    groups: dict[str, list[HostSpec]],
    admin_user: str,
    external_url: str | None,
    ssh_user: str | None,
    vault_password_file: Path | None,
    out: TextIO,
) -> int:
    vault_secret = vault_secret_from(vault_password_file)
    created = create_inventory(directory, groups, admin_user, external_url, ssh_user, vault_secret)
    protect(created.secrets)
    topo = created.topology
    print(f"Wrote inventory {created.path}", file=out)
    for name, hosts in topo.groups.items():
        print(f"  {name}: {', '.join(hosts)}", file=out)
    print(f"  {topo.describe_master()}", file=out)
    secrets_path = paths.secrets_file(created.path)
    print(f"Generated secrets in {secrets_path} (mode 0600): back it up.", file=out)
    print(f"Next: graylog-installer install -i {created.path}", file=out)
    return 0


# ---- install ------------------------------------------------------------------------------


def install(request: InstallRequest, out: TextIO) -> int:
    def report(line: str) -> None:
        print(GLOBAL.text(line), file=out, flush=True)

    directory = choose_inventory(request.inventory, report, request.options.check)
    vault_secret = vault_secret_from(request.vault_password_file)
    topo = open_inventory(directory, vault_secret, report)
    report(f"Inventory {directory}: {len(topo.hosts)} host(s). {topo.describe_master()}")

    marker = state.load_state(directory)
    was_installed = marker.installed
    _refuse_partial_rotation(request, marker)
    check = request.options.check
    choice = state.resolve_secrets(directory, marker, vault_secret, request.rotate, write=not check)
    protect(choice.secrets)
    if check:
        _report_line(dry_run.describe(choice), report)
    else:
        _report_secrets(choice, directory, report)
    _report_line(git_guard.exposure_warning(directory), report)

    # A dry run writes nothing into the inventory, its logs included.
    run_dir = dry_run.log_dir() if check else paths.new_run_dir(directory)
    preflight.run_preflight(directory, topo, run_dir, GLOBAL, report)

    # A deliberate rotation (now, or an earlier one not yet completed) may replace the
    # password_secret the graylog role finds on the hosts.
    allow_change = marker.rotation_pending or choice.status is state.SecretsStatus.ROTATED
    inputs_for_run = (
        dry_run.throwaway_inputs(directory, choice, topo.tls) if check else _kept(directory)
    )
    with inputs_for_run as inputs:
        outcome, final = _run_site(
            directory, topo, inputs, allow_change, request, run_dir, out, marker.last_task_count
        )
    report("")
    progress.print_summary(final, out, censor=GLOBAL.text)
    if not outcome.ok:
        log = str(outcome.log_path)
        raise InstallerError(progress.failure_sentence(final, "site.yml", log, outcome.rc))
    if check:
        _report_dry_run(run_dir, report)
        return 0
    full_run = not request.options.tags
    marker.record_success(choice.secrets, final.tasks_started if full_run else None)
    state.save_state(directory, marker)
    if allow_change and secrets_store.drop_rotation_copy(paths.secrets_file(directory)):
        report("Rotation complete on every host: the copy of the previous secrets was removed.")
    # A rotation finished by this run (asked now, or retried after a failure) shows the
    # admin password it may have changed.
    show_password = not was_installed or allow_change
    _report_done(topo, choice.secrets, show_password, directory, outcome.log_path, out)
    return 0


def _refuse_partial_rotation(request: InstallRequest, marker: state.InstallState) -> None:
    """A rotation must reach every host in one full run: the marker then records it done."""
    options = request.options
    rotating = bool(request.rotate) or marker.rotation_pending
    if rotating and (options.limit or options.tags):
        raise UsageError(
            "a secrets rotation must reach every host with the whole playbook: "
            "run it without --limit and --tags"
        )
    if request.rotate and options.check:
        raise UsageError("--check cannot rotate secrets: it would write a new secrets file")


def _report_dry_run(run_dir: Path, report: Report) -> None:
    changes = dry_run.would_change(run_dir)
    dry_run.discard_logs(run_dir)
    report("Check mode: nothing was changed, and nothing was written into the inventory.")
    report(
        f"A real run would change {len(changes)} task(s):"
        if changes
        else "A real run would change nothing."
    )
    for change in changes:
        report(f"  {change}")


def _report_line(line: str | None, report: Report) -> None:
    if line:
        report(line)


@contextmanager
def _kept(directory: Path) -> Iterator[dry_run.RunInputs]:
    """A real run reads the inventory's own secrets file (loaded or just written)."""
    yield dry_run.RunInputs(paths.secrets_file(directory), {})


def _report_secrets(choice: state.SecretsChoice, directory: Path, report: Report) -> None:
    path = paths.secrets_file(directory)
    if choice.status is state.SecretsStatus.CREATED:
        report(f"Generated secrets in {path} (mode 0600): back it up.")
    elif choice.status is state.SecretsStatus.ROTATED:
        kept = f"; the previous file is kept as {choice.backup} until the run succeeds"
        report(f"Rotated secrets in {path}{kept if choice.backup else ''}")
    if choice.added:
        report(
            f"Added {', '.join(choice.added)} to {path}, the other secrets unchanged: back it up."
        )


def _run_site(
    directory: Path,
    topo: Topology,
    inputs: dry_run.RunInputs,
    allow_secret_change: bool,
    request: InstallRequest,
    run_dir: Path,
    out: TextIO,
    expected_tasks: int | None,
) -> tuple[runner.RunOutcome, progress.ProgressState]:
    # The secrets reach Ansible only as a file of ours (the inventory's own, or a dry run's
    # throwaway one): never copied into a file of ansible-runner's.
    extravars: dict[str, object] = dict(inputs.extravars)
    if allow_secret_change:
        extravars["graylog_allow_secret_change"] = True
    expected = None if request.options.tags else expected_tasks
    start = progress.initial_state(list(topo.hosts), expected)
    print(f"Running playbooks/site.yml (log: {run_dir / 'ansible.log'})", file=out, flush=True)
    with progress.LiveDisplay(start, out, censor=GLOBAL.text) as display:
        outcome = runner.run_playbook(
            directory,
            extravars,
            request.options,
            run_dir,
            GLOBAL,
            display.handle,
            vars_files=[inputs.secrets_file],
        )
    return outcome, display.state


def _report_done(
    topo: Topology, value: Secrets, show_password: bool, directory: Path, log: Path, out: TextIO
) -> None:
    print("", file=out)
    print(f"Graylog is installed: {topo.external_url}", file=out)
    if topo.tls.enabled and topo.tls.generated:
        print(f"  certificate: {topo.tls.certificate} (self-signed: import it into", file=out)
        print("  your browser or system as trusted, or use your own; see README)", file=out)
    print(f"  admin username: {topo.admin_username}", file=out)
    if show_password:
        # The one place a secret is printed on purpose, so it bypasses the redactor.
        print(f"  admin password: {value.admin_password}", file=out)
        print("  (shown once; later: graylog-installer secrets show)", file=out)
    else:
        print(f"  admin password: graylog-installer secrets show -i {directory}", file=out)
    print(f"  run log: {log}", file=out)


# ---- verify -------------------------------------------------------------------------------


def verify_stack(
    inventory: Path | None,
    vault_password_file: Path | None,
    out: TextIO,
    round_trip_timeout: float = verify.ROUND_TRIP_TIMEOUT,
) -> int:
    def report(line: str) -> None:
        print(line, file=out, flush=True)

    directory = installed_inventory(inventory)
    vault_secret = vault_secret_from(vault_password_file)
    loaded = load_inventory(directory, vault_secret)
    for warning in loaded.warnings:
        report(f"warning: {warning}")
    topo = validate(loaded)
    value = load_existing_secrets(directory, vault_secret)
    syslog = entry_syslog_target(loaded, topo)
    report(f"Verifying {topo.external_url} (syslog {syslog}) as {topo.admin_username}")
    client = entry_client(topo, value)
    checks = verify.run_checks(
        client,
        expected_nodes=len(topo.groups["graylog"]),
        round_trips=lambda c: verify.check_round_trips(c, syslog, timeout=round_trip_timeout),
    )
    report(GLOBAL.text(verify.format_table(checks)))
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise InstallerError(f"verification failed: {', '.join(failed)}")
    return 0


def entry_client(topo: Topology, value: Secrets) -> verify.Client:
    """The admin's HTTP client for the stack's entry, trusting what the entry serves.

    The entry's own certificate when it serves HTTPS; with TLS off behind an operator's
    HTTPS proxy, the system's authorities check that proxy's certificate.
    """
    ours = topo.tls.enabled and topo.external_url.startswith("https:")
    tls = entry_tls.client_context(topo.tls) if ours else None
    return verify.Client(topo.external_url, topo.admin_username, value.admin_password, tls=tls)


def entry_syslog_target(loaded: Inventory, topo: Topology) -> verify.SyslogTarget:
    """The entry's syslog over TCP: the external URL's host, at the port it is reached on.

    graylog_entry_syslog_port names that port where it differs from graylog_syslog_port
    (a port mapping or a NAT in front of the entry, as the sandbox has).
    """
    front = (topo.groups[ENTRY_GROUP] or topo.groups["graylog"])[0]
    name = "graylog_entry_syslog_port"
    value = loaded.var(front, name)
    if value is None or value == "":
        name, value = "graylog_syslog_port", loaded.var(front, "graylog_syslog_port", 514)
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise UsageError(f"{name} is {value!r} for {front}; write a TCP port number (1-65535)")
    return verify.SyslogTarget(host=str(urlsplit(topo.external_url).hostname), port=port)


# ---- status -------------------------------------------------------------------------------


def show_status(inventory: Path | None, vault_password_file: Path | None, out: TextIO) -> int:
    """Print the stack's state; non-zero when anything is degraded. Changes nothing."""
    directory = installed_inventory(inventory)
    vault_secret = vault_secret_from(vault_password_file)
    topo = open_inventory(directory, vault_secret, lambda line: print(line, file=out))
    value = load_existing_secrets(directory, vault_secret)
    print(f"Status of {directory} ({topo.external_url})", file=out, flush=True)
    collector = status_probe.ProbeCollector()
    # The probe's log is of no use once its answers are shown: it stays out of .runs/.
    with tempfile.TemporaryDirectory(prefix="graylog-installer-status-") as run_dir:
        runner.run_module(
            directory,
            "raw",
            status_probe.PROBE,
            Path(run_dir),
            GLOBAL,
            collector,
            log_name="status",
        )
    found = status.StackStatus(
        groups=topo.groups,
        replica_set=str(topo.plan["mongodb"]["replica_set"] or ""),
        probes=collector.probes,
        errors=collector.errors,
        graylog=status_graylog.read_graylog(entry_client(topo, value)),
    )
    print(GLOBAL.text(status.render(found)), file=out)
    degraded = status.problems(found)
    if degraded:
        raise InstallerError(f"degraded: {'; '.join(degraded)}")
    print("All healthy.", file=out)
    return 0


# ---- secrets show -------------------------------------------------------------------------


def show_secrets(inventory: Path | None, vault_password_file: Path | None, out: TextIO) -> int:
    directory = installed_inventory(inventory)
    vault_secret = vault_secret_from(vault_password_file)
    topo = open_inventory(directory, vault_secret)
    value = load_existing_secrets(directory, vault_secret)
    print(f"admin username: {topo.admin_username}", file=out)
    print(f"admin password: {value.admin_password}", file=out)
    return 0
