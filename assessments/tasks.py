"""Background work of reverse evaluation, enqueued after the commit that
asks for it."""

from __future__ import annotations

from django_tasks import task

from assessments.models import EvaluationRound, RoundState


@task()
def round_results(*, round_id: int) -> None:
    """Compute a closed round's results (``round_results_compute``); a round
    reopened or gone meanwhile is left alone."""
    from assessments.services import round_results_compute

    evaluation_round = EvaluationRound.objects.filter(
        pk=round_id, state=RoundState.CLOSED
    ).first()
    if evaluation_round is not None:
        round_results_compute(evaluation_round=evaluation_round)
