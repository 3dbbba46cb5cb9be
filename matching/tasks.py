"""Background work of the matching app."""

from django_tasks import task

from matching.services import orders_escalate


@task()
def unanswered_orders_escalate() -> int:
    """Escalate the orders left unanswered too long; for a scheduler that runs
    tasks (cron runs ``manage.py orders_escalate``). Returns how many."""
    return len(orders_escalate())
