"""Signals other apps listen to, so that portal never imports them.

``units_changed`` is sent inside the transaction that changed departments or
accounts (an import, the CMS user form), so a listener's writes commit or roll
back with them. Arguments: ``department_ids`` and ``user_ids``, lists of pks.
"""

from django.dispatch import Signal

units_changed = Signal()
