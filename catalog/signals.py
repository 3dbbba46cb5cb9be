"""Signals the catalog sends for apps above it."""

from django.dispatch import Signal

# Seats of these offerings' sessions were taken or freed (after the change,
# inside its transaction): ``offering_ids``.
seats_changed = Signal()
