from django.db import migrations

# The lines of work departments belong to, in the order rankings list them.
# Administrators can add more; this is only the starting set.
FAMILIES = [
    "民政",
    "卫健",
    "公安",
    "应急管理",
    "司法",
    "人社",
    "城管",
    "文旅",
    "住建",
    "市场监管",
    "生态环境",
    "教育",
    "退役军人",
    "残联",
    "妇联",
    "团委",
    "工会",
    "医保",
    "规划资源",
    "农业农村",
    "水务",
    "交通",
    "商务",
    "科技",
    "财政",
    "统计",
    "信访",
    "数据局",
    "房管",
    "绿化市容",
    "消防",
    "税务",
]


def add_families(apps, schema_editor):
    DepartmentFamily = apps.get_model("portal", "DepartmentFamily")
    for order, name in enumerate(FAMILIES, start=1):
        DepartmentFamily.objects.get_or_create(
            name=name, defaults={"sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_home_page_model")]

    operations = [migrations.RunPython(add_families, migrations.RunPython.noop)]
