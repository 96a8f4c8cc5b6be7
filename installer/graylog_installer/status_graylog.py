"""What `status` asks Graylog through the stack's entry: its nodes, the master, each journal.

Graylog's own view, as its web interface shows it: the nodes registered in the cluster
(``/api/system/cluster/nodes``) and, for each, its message journal through the node that
answers (``/api/cluster/NODE/journal``). Read-only GETs with the admin's credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from graylog_installer.verify import Client, HttpFailure


@dataclass(frozen=True)
class GraylogNode:
    name: str  # the node's hostname as Graylog reports it
    node_id: str
    master: bool
    journal_backlog: int | None  # uncommitted journal entries; None when it did not say


@dataclass(frozen=True)
class GraylogView:
    nodes: tuple[GraylogNode, ...] = ()
    error: str = ""  # why the API gave no answer (then nodes is empty)


def read_graylog(client: Client) -> GraylogView:
    try:
        reply = client.get("api/system/cluster/nodes", auth=True)
        if reply.status != 200:
            return GraylogView(error=f"the cluster's nodes: {reply.short()}")
        listed = reply.json().get("nodes")
    except HttpFailure as exc:
        return GraylogView(error=str(exc))
    if not isinstance(listed, list):
        return GraylogView(error="the cluster's nodes: no list of nodes in the answer")
    nodes = [
        GraylogNode(
            name=str(node.get("hostname") or node.get("short_node_id") or "?"),
            node_id=str(node.get("node_id") or ""),
            master=node.get("is_master") is True,
            journal_backlog=_backlog(client, str(node.get("node_id") or "")),
        )
        for node in listed
        if isinstance(node, dict)
    ]
    return GraylogView(nodes=tuple(sorted(nodes, key=lambda n: n.name)))


def _backlog(client: Client, node_id: str) -> int | None:
    if not node_id:
        return None
    try:
        reply = client.get(f"api/cluster/{node_id}/journal", auth=True)
        entries = reply.json().get("uncommitted_journal_entries") if reply.status == 200 else None
    except HttpFailure:
        return None
    return entries if isinstance(entries, int) else None
