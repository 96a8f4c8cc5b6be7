"""Mitogen's linear strategy, from the installed mitogen package (a dependency).

ansible.cfg selects it: each host keeps one Python interpreter alive for the whole
run, instead of a new connection, interpreter and module upload for every task.
Setting ANSIBLE_STRATEGY=linear runs stock Ansible instead.
"""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule

__all__ = ["StrategyModule"]
