"""How a finished approval workflow publishes.

Named by ``WAGTAIL_FINISH_WORKFLOW_ACTION``, which Wagtail imports while its
models load: this module imports nothing at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wagtail.models import WorkflowState

    from portal.models import User


def workflow_state_publish(
    workflow_state: WorkflowState, user: User | None = None
) -> None:
    """Publish the latest revision of what the workflow approved.

    Wagtail's own action publishes as the user who approved the last step and
    so requires that user to hold the publish permission. The organization
    department reviews every department's offerings without it (it must not
    publish or unpublish them outside a review), so here approving the last
    step is the permission. A workflow that finishes without such an approval
    (every step inactive) still publishes only for a user who may publish.
    """
    from wagtail.models import TaskState

    last_step = workflow_state.current_task_state
    approved_by_user = (
        user is not None
        and last_step is not None
        and last_step.status == TaskState.STATUS_APPROVED
        and last_step.finished_by_id == user.pk
    )
    workflow_state.content_object.get_latest_revision().publish(
        user=user, skip_permission_checks=approved_by_user
    )
