from django.db import migrations

# The starting taxonomy; administrators extend it in the CMS.
CATEGORIES = {
    "安全应急": ["消防安全", "防汛防台", "应急演练", "反诈宣传", "食品安全"],
    "民生服务": ["养老服务", "助残服务", "托育服务", "就业帮扶", "医疗健康", "心理健康"],
    "基层治理": ["数字化工具", "社区议事", "物业治理", "矛盾调解", "法律服务"],
    "文化体育": ["文化活动", "全民健身", "阅读推广"],
    "能力提升": ["社工培训", "党建引领", "台账减负"],
    "生态环境": ["垃圾分类", "绿化美化"],
}
COMMUNITY_TYPES = [
    ("new_urban", "新城区"),
    ("old_urban", "老城区"),
    ("converted_village", "村改居"),
    ("rural", "农村"),
]


def add_taxonomy(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    CommunityTypeOption = apps.get_model("catalog", "CommunityTypeOption")
    for top_order, (top_name, children) in enumerate(CATEGORIES.items(), start=1):
        top, _ = Category.objects.get_or_create(
            name=top_name, parent=None, defaults={"sort_order": top_order}
        )
        for order, name in enumerate(children, start=1):
            Category.objects.get_or_create(name=name, parent=top, defaults={"sort_order": order})
    for order, (code, label) in enumerate(COMMUNITY_TYPES, start=1):
        CommunityTypeOption.objects.get_or_create(
            code=code, defaults={"label": label, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(add_taxonomy, migrations.RunPython.noop)]
