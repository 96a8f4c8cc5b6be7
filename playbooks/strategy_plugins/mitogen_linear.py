"""Mitogen's linear strategy, from the installed mitogen package (a dependency).

ansible.cfg selects it: each host keeps one Python interpreter alive for the whole
run, instead of a new connection, interpreter and module upload for every task.
Setting ANSIBLE_STRATEGY=linear runs stock Ansible instead.
"""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule as MitogenLinear
from ansible_mitogen.strategy import StrategyMixin


class StrategyModule(MitogenLinear):
    def run(self, iterator, play_context, result=0):
        # A play on the controller alone (connection: local) has no connection to save,
        # and an async task in Mitogen's fork of the controller's interpreter never
        # finishes: Molecule's Docker driver creates and removes containers that way.
        if iterator._play.connection == "local":
            return super(StrategyMixin, self).run(iterator, play_context)
        return super().run(iterator, play_context, result)
