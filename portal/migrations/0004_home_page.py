from django.db import migrations

INTRODUCTION = (
    "“点单”平台把“派单”变为“点单”：职能部门发布能为基层提供的培训、服务和共享资源，"
    "居村按需点单，部门精准配菜；居村还能对部门减负成效进行反向评价。"
)
BODY = (
    "<h2>居村点单</h2><p>社区和村浏览部门的赋能项目与共享资源库，按实际需要点单，"
    "目录里没有的可以发布需求，由相关部门响应。</p>"
    "<h2>部门配菜</h2><p>职能部门在平台上发布培训课程、服务项目、场地、设备和专家，"
    "答复点单、安排送达，不再层层向基层派任务。</p>"
    "<h2>反向评价</h2><p>居村从文件会议、督查检查考核、台账资料、吹哨报到响应和赋能实效"
    "五个方面匿名评价部门，组织部据此排名、通报和督促整改，让减负看得见。</p>"
)


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("portal", "HomePage")
    Locale = apps.get_model("wagtailcore", "Locale")

    # Replace the welcome page that Wagtail's own migration creates.
    Page.objects.filter(depth=2, slug="home").delete()
    content_type, _ = ContentType.objects.get_or_create(
        model="homepage", app_label="portal"
    )
    home = HomePage.objects.create(
        title="点单 · 为基层减负服务平台",
        draft_title="点单 · 为基层减负服务平台",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=Locale.objects.first(),
        introduction=INTRODUCTION,
        body=BODY,
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "root_page": home, "site_name": "点单"},
    )


def remove_home_page(apps, schema_editor):
    apps.get_model("portal", "HomePage").objects.filter(slug="home", depth=2).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_department_families")]

    operations = [migrations.RunPython(create_home_page, remove_home_page)]
