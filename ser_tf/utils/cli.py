"""What the command-line entry points share."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` only for flags with a default of their own. A flag left unset
    (``None``, ``False``, ``[]``) defers to something else -- the recipe, the run folder -- and its
    help text says so once, instead of a second, misleading ``(default: None)``."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)
