"""The ``graylog-installer`` command line: flags in, one line per error out."""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from graylog_installer import backup, commands, paths, state
from graylog_installer.errors import InstallerError, Interrupted, UsageError
from graylog_installer.redact import GLOBAL
from graylog_installer.runner import PlaybookOptions
from graylog_installer.scaffold import HostSpec, parse_host

PROG = "graylog-installer"


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of the whole usage text."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PROG}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Install and verify a Graylog 2.0 stack.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    # Accept --debug after the sub-command too, without resetting it when absent there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    _add_init(sub, common)
    _add_install(sub, common)
    _add_verify(sub, common)
    _add_status(sub, common)
    _add_secrets(sub, common)
    _add_sandbox(sub, common)
    _add_backup(sub, common)
    return parser


def _inventory_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--inventory",
        type=Path,
        metavar="DIR",
        help="inventory directory (default: the local sandbox)",
    )


def _vault_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vault-password-file",
        type=Path,
        metavar="FILE",
        help="ansible-vault password file for an encrypted secrets.yml",
    )


def _add_init(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", parents=[common], help="write a new inventory and its secrets")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.add_argument(
        "--graylog",
        action="append",
        default=[],
        metavar="HOST",
        help="Graylog host, NAME or NAME=ADDRESS (repeat for a cluster)",
    )
    p.add_argument(
        "--elasticsearch",
        action="append",
        default=[],
        metavar="HOST",
        help="Elasticsearch host (default: the Graylog hosts)",
    )
    p.add_argument(
        "--mongodb",
        action="append",
        default=[],
        metavar="HOST",
        help="MongoDB host (default: the Graylog hosts); 3 or more form a replica set",
    )
    p.add_argument(
        "--loadbalancer",
        action="append",
        default=[],
        metavar="HOST",
        help="HAProxy host, the single entry in front of several Graylog hosts (optional)",
    )
    p.add_argument(
        "--log-sender",
        action="append",
        default=[],
        metavar="HOST",
        help="host whose rsyslog forwards its logs to the stack (optional, repeatable)",
    )
    p.add_argument("--external-url", metavar="URL", help="URL users open, e.g. https://logs/")
    p.add_argument("--admin-user", default="admin", metavar="NAME")
    p.add_argument("--ssh-user", metavar="USER", help="remote user Ansible logs in as")
    _vault_flag(p)


def _add_install(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("install", parents=[common], help="validate, preflight and run site.yml")
    _inventory_flag(p)
    _vault_flag(p)
    p.add_argument(
        "--rotate-admin-password",
        action="store_true",
        help="replace the admin password with a new one (shown at the end of the run)",
    )
    p.add_argument(
        "--rotate-password-secret",
        action="store_true",
        help="replace Graylog's password_secret: every stored user's password but the "
        "admin's stops working (reset them) and every session ends",
    )
    p.add_argument("--check", action="store_true", help="ansible-playbook --check")
    p.add_argument("--diff", action="store_true", help="ansible-playbook --diff")
    p.add_argument("--limit", metavar="PATTERN", help="ansible-playbook --limit")
    p.add_argument("--tags", metavar="TAGS", help="ansible-playbook --tags")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more Ansible output")


def _add_verify(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("verify", parents=[common], help="check the stack through nginx")
    _inventory_flag(p)
    _vault_flag(p)


def _add_group(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, help_text: str
) -> argparse._SubParsersAction:
    """A command whose work is named by a required action word (secrets show, ...)."""
    p = sub.add_parser(name, parents=[common], help=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    return actions


def _add_status(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser(
        "status",
        parents=[common],
        help="show every host's services, the clusters and disk use; fail when degraded",
    )
    _inventory_flag(status)
    _vault_flag(status)


def _add_secrets(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = _add_group(sub, common, "secrets", "show the admin credentials")
    show = actions.add_parser("show", parents=[common], help="print admin username and password")
    _inventory_flag(show)
    _vault_flag(show)


def _add_sandbox(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    actions = _add_group(sub, common, "sandbox", "manage the local sandbox container")
    actions.add_parser(
        "destroy", parents=[common], help="remove the sandbox container and its secrets"
    )


def _add_backup(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backup", parents=[common], help="MongoDB, indices and configuration to one archive"
    )
    _inventory_flag(p)
    _vault_flag(p)
    p.add_argument(
        "--output", type=Path, metavar="FILE", help="archive to write (default: dated, here)"
    )
    p = sub.add_parser(
        "restore", parents=[common], help="put a backup back onto an installed stack"
    )
    _inventory_flag(p)
    _vault_flag(p)
    p.add_argument("archive", type=Path, metavar="FILE", help="archive written by backup")


def _init_groups(args: argparse.Namespace) -> dict[str, list[HostSpec]]:
    graylog_hosts = list(args.graylog) or _prompt_hosts()
    graylog = [parse_host(h) for h in graylog_hosts]
    # Elasticsearch and MongoDB default to the Graylog hosts (by name, address set once).
    default = [HostSpec(h.name) for h in graylog]
    groups = {
        "graylog": graylog,
        "elasticsearch": [parse_host(h) for h in args.elasticsearch] or default,
        "mongodb": [parse_host(h) for h in args.mongodb] or default,
    }
    if args.loadbalancer:
        groups["loadbalancer"] = [parse_host(h) for h in args.loadbalancer]
    if args.log_sender:
        groups["log_senders"] = [parse_host(h) for h in args.log_sender]
    return groups


def _prompt_hosts() -> list[str]:
    if not sys.stdin.isatty():
        raise UsageError("init needs at least one --graylog HOST")
    answer = input("Graylog hosts (NAME or NAME=ADDRESS, separated by spaces): ")
    hosts = answer.split()
    if not hosts:
        raise UsageError("init needs at least one Graylog host")
    return hosts


def dispatch(args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.command == "init":
        return commands.init(
            args.directory,
            _init_groups(args),
            args.admin_user,
            args.external_url,
            args.ssh_user,
            args.vault_password_file,
            out,
        )
    if args.command == "install":
        options = PlaybookOptions(
            check=args.check,
            diff=args.diff,
            limit=args.limit,
            tags=args.tags,
            verbosity=args.verbose,
            vault_password_file=args.vault_password_file,
        )
        request = commands.InstallRequest(
            inventory=args.inventory,
            vault_password_file=args.vault_password_file,
            rotate=_rotation(args),
            options=options,
        )
        return commands.install(request, out)
    if args.command == "verify":
        return commands.verify_stack(args.inventory, args.vault_password_file, out)
    if args.command == "status":
        return commands.show_status(args.inventory, args.vault_password_file, out)
    if args.command == "backup":
        return backup.backup(args.inventory, args.output, args.vault_password_file, out)
    if args.command == "restore":
        return backup.restore(args.inventory, args.archive, args.vault_password_file, out)
    if args.command == "sandbox":
        return commands.destroy_sandbox(out)
    return commands.show_secrets(args.inventory, args.vault_password_file, out)


def _rotation(args: argparse.Namespace) -> frozenset[str]:
    """The secrets whose rotation flag (state.ROTATION_FLAGS) was given."""
    flags = state.ROTATION_FLAGS.items()
    return frozenset(key for key, flag in flags if getattr(args, flag[2:].replace("-", "_")))


def _fail(message: str, code: int) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"{PROG}: error: {GLOBAL.text(message)}\n")
    return code


def _on_sigterm(signum: int, _frame: object) -> None:
    # Python's default for SIGTERM ends the process without running any cleanup.
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Before any module imports Ansible, so in-process parsing sees the same config.
    paths.configure_ansible()
    debug = bool(getattr(args, "debug", False))
    previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return dispatch(args)
    except InstallerError as exc:
        if debug:
            traceback.print_exc()
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        interrupted = Interrupted(signal.SIGINT)
        return _fail(str(interrupted), interrupted.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line unless --debug
        if debug:
            traceback.print_exc()
        detail = " ".join(str(exc).split())
        return _fail(f"unexpected {type(exc).__name__}: {detail} (rerun with --debug)", 1)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


if __name__ == "__main__":
    sys.exit(main())
