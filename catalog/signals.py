"""Signals the catalog sends for apps above it."""

from django.dispatch import Signal

# Seats of these sessions were taken or freed (after the change, inside its
# transaction): ``session_ids``. Sessions, not offerings: the seat services
# know only the session, and looking its offering up would add a query to
# every booking for receivers that may not need it.
seats_changed = Signal()

# These offerings were ordered once more (``OfferingDemand``, after the
# change, inside its transaction): ``offering_ids``.
demand_changed = Signal()
