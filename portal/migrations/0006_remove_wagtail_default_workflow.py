from django.db import migrations
from django.utils import timezone

DEFAULT_NAME = "Moderators approval"


def remove_default_workflow(apps, schema_editor):
    # Wagtail's migration turns the starter "Moderators" group's rights on the
    # root page into a "Moderators approval" workflow for the whole tree. That
    # group is gone (0005), so nobody can approve, and the workflow would ask
    # for approval of every page without one of its own: the collections (专题)
    # that the organization department publishes. Departments' offerings have
    # their own workflows, assigned on each department page.
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    WorkflowState = apps.get_model("wagtailcore", "WorkflowState")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    TaskState = apps.get_model("wagtailcore", "TaskState")

    for workflow in Workflow.objects.filter(name=DEFAULT_NAME):
        WorkflowPage.objects.filter(workflow=workflow, page__depth=1).delete()
        steps = list(WorkflowTask.objects.filter(workflow=workflow))
        task = GroupApprovalTask.objects.filter(
            pk__in=[step.task_id for step in steps], name=DEFAULT_NAME
        ).first()
        # Keep a workflow someone has since changed or assigned elsewhere.
        untouched = (
            len(steps) == 1
            and task is not None
            and not task.groups.exclude(name="Moderators").exists()
            and not WorkflowTask.objects.filter(task=task)
            .exclude(workflow=workflow)
            .exists()
            and not WorkflowPage.objects.filter(workflow=workflow).exists()
            and not WorkflowContentType.objects.filter(workflow=workflow).exists()
        )
        if not untouched:
            continue
        if WorkflowState.objects.filter(workflow=workflow).exists():
            # Keep the moderation history; end what nobody can approve.
            now = timezone.now()
            TaskState.objects.filter(task=task, status="in_progress").update(
                status="cancelled", finished_at=now
            )
            WorkflowState.objects.filter(
                workflow=workflow, status="in_progress"
            ).update(status="cancelled")
            Workflow.objects.filter(pk=workflow.pk).update(active=False)
            GroupApprovalTask.objects.filter(pk=task.pk).update(active=False)
        else:
            workflow.delete()
            task.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_remove_wagtail_default_groups"),
        # After 0048_add_default_workflows, which makes the workflow, and with
        # workflows for snippets too.
        ("wagtailcore", "0083_workflowcontenttype"),
    ]

    operations = [
        migrations.RunPython(remove_default_workflow, migrations.RunPython.noop)
    ]
