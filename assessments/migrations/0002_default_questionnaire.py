"""The questionnaire every portal starts with: the five dimensions of the
Jingmen practice and the Pudong service evaluation, with questions a
community worker answers in ten minutes. Administrators make new versions of
it in the CMS."""

from decimal import Decimal

from django.db import migrations

DIMENSIONS = [
    ("meetings", "文件会议精简", "部门下发文件、要求参会的数量和必要性", "0.25"),
    ("inspections", "督查检查考核", "到社区的督查、检查、考核是否统筹、减量", "0.20"),
    ("ledgers", "台账资料", "要求社区填报的台账、报表、APP 和重复报送", "0.20"),
    ("responsiveness", "吹哨报到响应", "社区吹哨后部门报到、解决问题的及时性", "0.20"),
    ("services", "赋能服务实效", "部门通过点单提供的服务和资源是否管用", "0.15"),
]

# (dimension, code, text, help, kind, weight, direction, required, options,
#  scale_max, show_if, show_if_values)
QUESTIONS = [
    ("meetings", "meetings_count", "本季度该部门要求您单位参加的会议有几次（含视频会议）？",
     "只计该部门召集或要求社区派人参加的会议。", "count", "2", "lower", True, "", 6, "", ""),
    ("meetings", "meetings_needed", "该部门召开的会议确有必要、时长合理。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "1", "higher", True, "", None, "", ""),
    ("meetings", "documents_count", "本季度该部门向您单位下发、需要办理或回复的文件通知有几份？",
     "", "count", "1", "lower", True, "", 10, "", ""),
    ("meetings", "documents_clear", "该部门的文件要求明确、可操作，没有层层加码。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "1", "higher", True, "", None, "", ""),
    ("inspections", "inspections_count", "本季度该部门到您单位开展督查、检查、考核几次？",
     "含暗访、抽查和要求社区配合的检查。", "count", "2", "lower", True, "", 4, "", ""),
    ("inspections", "inspections_planned", "检查能统筹合并、提前告知，没有重复检查和突击检查。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "1", "higher", True, "", None, "", ""),
    ("inspections", "rankings", "该部门是否对社区搞排名通报、一票否决或签订责任状？",
     "", "yes_no", "1", "lower", True, "", None, "", ""),
    ("inspections", "reports_demanded", "检查时是否要求您单位另行准备汇报材料或展板？",
     "", "yes_no", "1", "lower", True, "", None, "", ""),
    ("ledgers", "ledgers_count", "该部门要求社区填报、维护的台账和报表有几种？",
     "每种台账或定期报表计一种。", "count", "2", "lower", True, "", 8, "", ""),
    ("ledgers", "duplicate_reports", "已在系统中填报过的数据，该部门是否仍要求重复报送？",
     "", "yes_no", "1", "lower", True, "", None, "", ""),
    ("ledgers", "apps_count", "该部门要求社区使用、打卡或关注的政务 APP、公众号、小程序有几个？",
     "", "count", "1", "lower", True, "", 4, "", ""),
    ("ledgers", "ledgers_trend", "与上一季度相比，该部门带给社区的台账报表负担：",
     "", "single", "1", "higher", True,
     "明显减轻|100\n略有减轻|75\n没有变化|50\n有所加重|0", None, "", ""),
    ("responsiveness", "whistle_answered", "社区吹哨后，该部门能及时到场报到。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "1", "higher", True, "", None, "", ""),
    ("responsiveness", "issues_solved", "提交给该部门的问题得到了实质解决。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "2", "higher", True, "", None, "", ""),
    ("responsiveness", "response_time", "该部门对社区诉求一般多久给出答复？",
     "", "single", "1", "higher", True,
     "当天|100\n1 至 3 个工作日|75\n一周内|40\n超过一周|10\n从未答复|0", None, "", ""),
    ("responsiveness", "unsolved_why", "问题没有解决，主要是因为：",
     "可多选。", "multiple", "0", "higher", False,
     "推诿扯皮、相互踢皮球\n答复不及时\n认为超出本部门职责\n要求社区自行解决\n其他", None,
     "issues_solved", "1,2"),
    ("services", "services_used", "本季度您单位是否通过点单获得过该部门的服务或资源？",
     "", "yes_no", "0", "higher", True, "", None, "", ""),
    ("services", "services_useful", "获得的服务内容符合社区需要，质量满意。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "2", "higher", True, "", None,
     "services_used", "1"),
    ("services", "services_paperwork", "服务过程中，该部门是否要求社区额外提供材料、签到或留痕？",
     "", "yes_no", "1", "lower", True, "", None, "services_used", "1"),
    ("services", "recommend", "您愿意向其他社区推荐该部门的服务和资源。",
     "1 表示非常不同意，5 表示非常同意。", "likert", "1", "higher", True, "", None, "", ""),
    ("services", "suggestions", "对该部门为基层减负的意见和建议",
     "选填。经组织部审核后匿名转给该部门。", "text", "0", "higher", False, "", None, "", ""),
]


def questionnaire_create(apps, schema_editor):
    Questionnaire = apps.get_model("assessments", "Questionnaire")
    Dimension = apps.get_model("assessments", "Dimension")
    Question = apps.get_model("assessments", "Question")
    questionnaire = Questionnaire.objects.create(
        title="为基层减负反向评价问卷",
        description=(
            "由社区（村）和街道（镇）从文件会议、督查检查考核、台账资料、"
            "吹哨报到响应和赋能服务实效五个方面，评价职能部门为基层减负的实际成效。"
        ),
        version=1,
    )
    Dimension.objects.bulk_create(
        Dimension(
            questionnaire=questionnaire,
            sort_order=n,
            code=code,
            name=name,
            description=description,
            weight=Decimal(weight),
        )
        for n, (code, name, description, weight) in enumerate(DIMENSIONS)
    )
    Question.objects.bulk_create(
        Question(
            questionnaire=questionnaire,
            sort_order=n,
            dimension_code=dimension,
            code=code,
            text=text,
            help_text=help_text,
            kind=kind,
            weight=Decimal(weight),
            direction=direction,
            required=required,
            options=options,
            scale_max=scale_max,
            show_if=show_if,
            show_if_values=show_if_values,
        )
        for n, (
            dimension,
            code,
            text,
            help_text,
            kind,
            weight,
            direction,
            required,
            options,
            scale_max,
            show_if,
            show_if_values,
        ) in enumerate(QUESTIONS)
    )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [
        migrations.RunPython(questionnaire_create, migrations.RunPython.noop),
    ]
