"""Load about forty demo needs (需求) of the demo district's communities, with
the departments' answers, the orders placed from accepted proposals and the
conversations about them.

Everything goes through ``matching.need_services`` and ``matching.services``
as the pages would, so suggestions, events and orders are the real ones.
Afterwards the timestamps of each need's story are spread over the weeks
before the run (the services stamp everything "now"), so that lists and
histories read like a portal in use. A need is made once, keyed by its
community and title, and left alone afterwards: a second run writes nothing.
Run ``seed_demo`` and ``seed_catalog_demo`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Availability, Category, OfferingPage, OfferingSession
from matching.models import (
    Message,
    Need,
    NeedEvent,
    NeedResponse,
    NeedResponseKind,
    NeedUrgency,
    Order,
    OrderEvent,
)
from matching.need_services import (
    NeedError,
    message_post,
    need_accept_proposal,
    need_close,
    need_post,
    need_respond,
)
from matching.services import OrderError, order_place, order_transition
from portal.models import User

U, N, L = NeedUrgency.URGENT, NeedUrgency.NORMAL, NeedUrgency.LOW


@dataclass(frozen=True)
class DemoNeed:
    """One need and its story. ``steps`` are taken in order:

    ("propose", username, offering title, note) · ("decline", username, reason)
    · ("accept", offering title) · ("deliver",) the accepted order, through to
    the community's confirmation · ("close", reason) · ("say", username, text)
    on the need · ("order_say", username, text) on the accepted order.
    """

    username: str
    title: str
    category: str
    urgency: str
    description: str
    days_ago: int
    steps: tuple[tuple[str, ...], ...] = ()
    # Days from the run to the preferred period's first and last day.
    preferred: tuple[int, int] | None = None


DEMO_NEEDS: tuple[DemoNeed, ...] = (
    DemoNeed(
        "shequ",
        "独居老人夜间紧急呼叫设备安装",
        "养老服务",
        U,
        "辖区内有 37 位 80 岁以上独居老人，去年冬天有两位老人夜间摔倒到第二天才被发现。"
        "希望有部门为老人家中安装一键呼叫或紧急报警设备，并和社区值班电话联动。"
        "目录里只有走访服务，没有设备安装。",
        12,
        (
            (
                "propose",
                "bumen",
                "养老顾问驻点咨询",
                "可先派养老顾问上门，逐户评估老人情况和长护险资格；呼叫设备由我局对接智慧养老项目统一安装。",
            ),
            (
                "decline",
                "canlian",
                "一键呼叫设备不在残联辅具目录内。名单中如有持证残疾老人，可另行申请辅具适配评估。",
            ),
            (
                "say",
                "shequ",
                "评估大概什么时候能来？我们先把 37 户名单和联系方式整理好。",
            ),
            (
                "say",
                "bumen",
                "名单直接发在这里即可。下周二下午可以先走访 10 户，请社区安排一位社工陪同。",
            ),
            ("say", "shequ", "好的，名单已整理，周二下午社工小周陪同。"),
        ),
        preferred=(10, 40),
    ),
    DemoNeed(
        "shequ",
        "楼道电动自行车飞线充电集中整治",
        "消防安全",
        U,
        "天山新村第一小区有 6 栋老公房，楼道飞线充电反复出现，居民劝不动，物业也没有执法手段。"
        "希望消防部门联合物业上门排查，并在小区里把风险讲清楚，最好有真实案例视频。",
        20,
        (
            (
                "propose",
                "xiaofang",
                "电动自行车安全充电宣传周",
                "宣传周可以结合一次楼道飞线充电联合劝导，我们带案例视频和展板。",
            ),
            (
                "say",
                "shequ",
                "劝导那天能不能请物业经理一起参加？他们负责后续的充电桩。",
            ),
            ("say", "xiaofang", "可以，我们会提前联系物业，请社区通知各楼组长。"),
            ("accept", "电动自行车安全充电宣传周"),
        ),
    ),
    DemoNeed(
        "shequ",
        "夏季纳凉点需要场地",
        "文化活动",
        N,
        "社区活动室只有 30 平方米，夏天高温时老人想找个凉快的地方坐坐、看看戏。"
        "希望街道或部门能提供一个有空调的较大场地，7 到 8 月每周开放两个下午。",
        45,
        (
            (
                "propose",
                "shouli",
                "长风街道社区活动中心多功能厅",
                "多功能厅 7、8 月周二、周四下午空闲，可以作为纳凉点，空调和饮水机都有。",
            ),
            ("accept", "长风街道社区活动中心多功能厅"),
            (
                "order_say",
                "shouli",
                "场地已经排好，第一次开放请提前半小时到，管理员会开门。",
            ),
            ("order_say", "shequ", "收到，谢谢！老人们很高兴。"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "shequ",
        "楼上楼下噪音纠纷需要专业调解",
        "矛盾调解",
        N,
        "3 号楼两户居民因为深夜噪音反复争吵，已经报警两次。居委会调解了三次没有结果，"
        "希望有专业调解员介入。",
        30,
        (
            ("say", "shequ", "补充：两户都同意接受调解，时间可以约在晚上。"),
            ("close", "经居委会和物业再次协调，双方已达成书面协议，暂时不需要了。"),
        ),
    ),
    DemoNeed(
        "caoyang",
        "老旧小区加装电梯意见征询专业支持",
        "物业治理",
        N,
        "曹杨一村有 4 个门洞想加装电梯，一楼住户担心采光和噪音，意见征询卡在 2/3 同意率。"
        "希望有懂政策的人来现场讲补贴和流程，帮忙做低层住户的工作。",
        8,
        (),
        preferred=(14, 60),
    ),
    DemoNeed(
        "caoyang",
        "老年人智能手机使用培训",
        "数字化工具",
        N,
        "很多老人不会用手机挂号、扫码乘车，也不会用随申办查社保。"
        "希望有部门能开设每周一次的小班课，手把手教。",
        16,
        (
            (
                "decline",
                "bumen",
                "我局目前没有面向居民的智能手机培训项目，建议联系区数据局或团区委的青年志愿者。",
            ),
        ),
    ),
    DemoNeed(
        "caoyang",
        "社区心理咨询室缺少专业咨询师",
        "心理健康",
        U,
        "社区心理咨询室建好一年，一直没有专业咨询师值班。最近有几户困境家庭情绪问题突出，"
        "社工处理不了，希望卫健部门派咨询师定期来。",
        26,
        (
            (
                "propose",
                "weijian",
                "心理疏导进社区",
                "精神卫生中心可以每月安排两次团体辅导，个案咨询可以预约，需要转介的直接对接医院。",
            ),
            ("say", "caoyang", "困境家庭的个案比较急，能不能先安排一次个案？"),
            ("say", "weijian", "可以，请在下单时备注个案人数，咨询师会先来个案。"),
            ("accept", "心理疏导进社区"),
        ),
    ),
    DemoNeed(
        "changshou",
        "苏州河沿岸防汛物资储备不足",
        "防汛防台",
        U,
        "社区紧邻苏州河，地下车库和 2 处低洼点每年汛期都积水。社区防汛仓库里只有沙袋，"
        "缺少照明、抽水和警戒设备，希望借用或补充。",
        50,
        (
            (
                "propose",
                "yingji",
                "家庭应急物资储备清单与宣传册",
                "可以按户数提供应急物资储备清单和宣传册，汛前发到每户。",
            ),
            (
                "propose",
                "yingji",
                "防汛专家驻点指导",
                "建议先请防汛专家现场看一下低洼点，再决定借哪些设备。",
            ),
            ("accept", "防汛专家驻点指导"),
            ("order_say", "yingji", "专家周四上午到，请带上地下车库的钥匙。"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "changshou",
        "外来务工人员子女暑期看护",
        "托育服务",
        N,
        "辖区有不少外来务工家庭，暑假孩子白天没人看，在小区里乱跑很不安全。"
        "希望有部门能在社区开设暑期看护班。",
        6,
        (),
        preferred=(30, 75),
    ),
    DemoNeed(
        "changshou",
        "沿街小餐饮食品安全培训",
        "食品安全",
        L,
        "社区沿街有 20 多家小餐饮，居民投诉卫生问题较多。希望市场监管部门给店主做一次集中培训。",
        4,
        (),
    ),
    DemoNeed(
        "ganquan",
        "辖区残疾人康复辅具短期借用",
        "助残服务",
        N,
        "有几位居民术后需要轮椅和助行器，家里只需要用两三个月，买了浪费。希望能就近借用。",
        18,
        (
            (
                "propose",
                "canlian",
                "助残辅具短期借用",
                "轮椅、助行器都可以借，残联负责送上门和回收。",
            ),
            ("accept", "助残辅具短期借用"),
            ("order_say", "ganquan", "一共 3 位居民，名单和地址已写在备注里。"),
        ),
    ),
    DemoNeed(
        "ganquan",
        "居民议事会议题收集方法培训",
        "社区议事",
        L,
        "新一届居委会成员大多是新人，不太会组织议事会，议题总是收集不上来。",
        10,
        (
            (
                "propose",
                "bumen",
                "居民议事会主持技巧培训",
                "课程里专门有议题收集和会议主持的情景模拟，适合新任委员。",
            ),
            ("say", "ganquan", "请问培训能不能放在周六？工作日委员们要上班。"),
        ),
    ),
    DemoNeed(
        "ganquan",
        "小区业委会换届指导",
        "物业治理",
        N,
        "甘泉三村业委会任期到了，但没人愿意牵头换届，物业合同也快到期了，希望有部门来指导。",
        22,
        (
            (
                "decline",
                "bumen",
                "业委会换届由区房管局指导，我局无对应项目；居委会换届手册可作参考。",
            ),
        ),
    ),
    DemoNeed(
        "ganquan",
        "困难家庭适老化改造",
        "养老服务",
        N,
        "有 12 户困难老人家里卫生间没有扶手、地面很滑，已经有老人摔倒过。希望能评估并改造。",
        35,
        (
            (
                "propose",
                "bumen",
                "困难老人居家适老化改造评估",
                "评估员上门评估，符合条件的可以申请政府补贴，申请材料由评估员完成。",
            ),
            ("accept", "困难老人居家适老化改造评估"),
        ),
    ),
    DemoNeed(
        "shiquan",
        "失业人员再就业技能培训",
        "就业帮扶",
        N,
        "社区登记的失业人员有 40 多人，大多是 45 岁以上的女性，希望有适合她们的技能培训。",
        28,
        (
            (
                "propose",
                "renshe",
                "家政服务员职业技能培训",
                "家政培训考核合格发证书，符合条件的还有培训补贴，很适合这个人群。",
            ),
            ("accept", "家政服务员职业技能培训"),
        ),
    ),
    DemoNeed(
        "taopu1",
        "希望律师每周驻点",
        "法律服务",
        N,
        "最近居民咨询房产继承、物业纠纷的越来越多，现在律师每月只来一次，排不上号。",
        55,
        (
            (
                "propose",
                "sifa",
                "法律顾问驻点",
                "可以把驻点调整为每周一次，时间和社区商定。",
            ),
            ("accept", "法律顾问驻点"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "shiquan",
        "居民急救知识普及（AED 使用）",
        "应急演练",
        U,
        "小区刚装了 AED，但几乎没人会用。希望给楼组长、保安和志愿者做一次实操培训。",
        9,
        (
            (
                "propose",
                "weijian",
                "社区急救技能培训（心肺复苏与AED）",
                "急救中心培训师带模拟人和 AED 训练机来，合格的发证书。",
            ),
            (
                "propose",
                "yingji",
                "社区综合应急演练指导",
                "也可以结合一次综合演练，把 AED 使用放进演练脚本里。",
            ),
        ),
        preferred=(15, 45),
    ),
    DemoNeed(
        "yichuan",
        "社区图书角图书陈旧",
        "阅读推广",
        L,
        "社区图书角的书大多是十几年前的，孩子们的绘本几乎没有，希望能补充更新。",
        60,
        (
            (
                "propose",
                "wenlv",
                "社区图书流转箱",
                "每季度配送约 200 册，可以多配一些少儿绘本。",
            ),
            ("accept", "社区图书流转箱"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "wanli",
        "老年合唱团缺少专业指导老师",
        "文化活动",
        N,
        "社区老年合唱团有 40 多人，一直自己摸索，想参加区里的展演，希望有专业老师指导。",
        14,
        (
            (
                "propose",
                "wenlv",
                "社区文艺团队指导",
                "每期 8 次课，结业可以参加区社区文艺展演。",
            ),
        ),
    ),
    DemoNeed(
        "yichuan",
        "社工个案服务能力培训",
        "社工培训",
        N,
        "社区新来的 3 位社工没有个案经验，遇到困境家庭不知道怎么介入。",
        11,
        (
            (
                "propose",
                "bumen",
                "社区工作者能力提升计划",
                "三个月的项目，有督导老师跟岗，个案服务是重点内容。",
            ),
        ),
    ),
    DemoNeed(
        "wanli",
        "新建小区邻里融合活动",
        "文化活动",
        N,
        "万里城第五小区入住不到两年，居民互不认识，年轻家庭多。希望有部门帮忙策划邻里活动。",
        7,
        (
            (
                "propose",
                "wenlv",
                "公共文化配送：戏曲进社区",
                "可以配送一场演出作为邻里节的开场。",
            ),
            (
                "say",
                "wanli",
                "我们小区年轻家庭多，戏曲可能不太合适，有没有亲子类的节目？",
            ),
            (
                "say",
                "wenlv",
                "文化配送里也有亲子音乐会和儿童剧，我们下周更新目录后再提一个方案。",
            ),
        ),
    ),
    DemoNeed(
        "wanli",
        "地下车库积水隐患排查",
        "防汛防台",
        U,
        "去年暴雨地下车库进水，泡了 20 多辆车。今年汛期前希望专业人员来看看排水和挡水设施。",
        24,
        (
            (
                "propose",
                "yingji",
                "防汛专家驻点指导",
                "防汛专家可以半天驻点，重点看车库出入口挡水和集水井。",
            ),
            ("accept", "防汛专家驻点指导"),
            ("order_say", "wanli", "物业经理那天在，车库钥匙没问题。"),
        ),
    ),
    DemoNeed(
        "wanli",
        "垃圾分类志愿者培训",
        "垃圾分类",
        L,
        "新招募了 15 名垃圾分类志愿者，希望有人来讲讲易混垃圾怎么分。",
        40,
        (("close", "街道已统一安排了一次培训，我们的志愿者也参加了。"),),
    ),
    DemoNeed(
        "zhenru",
        "老年人防诈骗宣传需要新案例",
        "反诈宣传",
        U,
        "最近辖区连续发生冒充医保局的电话诈骗，有老人被骗 3 万元。希望民警来讲讲最新手法。",
        3,
        (),
    ),
    DemoNeed(
        "shiquan",
        "高血压糖尿病健康讲座",
        "医疗健康",
        N,
        "社区慢病老人多，希望请医生来讲讲用药和饮食，最好能现场测血压血糖。",
        48,
        (
            (
                "propose",
                "weijian",
                "全科医生健康讲座专家库",
                "可以选慢病管理专题，讲座后现场测血压血糖。",
            ),
            ("accept", "全科医生健康讲座专家库"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "zhenru",
        "居民劳动合同纠纷咨询",
        "就业帮扶",
        N,
        "有几位在附近工厂打工的居民被拖欠工资，不知道怎么维权，希望有专业人员解答。",
        13,
        (
            (
                "propose",
                "renshe",
                "劳动争议调解员驻点",
                "调解员每月驻点一次，可以先预约个案。",
            ),
        ),
    ),
    DemoNeed(
        "xiangyuan",
        "年轻家庭育儿讲座",
        "托育服务",
        N,
        "小区 0-3 岁婴幼儿家庭有 100 多户，家长希望听听科学育儿和早期教育方面的讲座。",
        5,
        (
            (
                "decline",
                "bumen",
                "育儿讲座属教育局和妇联的工作范围，我局没有对应项目。",
            ),
        ),
    ),
    DemoNeed(
        "xiangyuan",
        "居委会换届选举工作指导",
        "社区议事",
        U,
        "今年是居委会换届年，社区选民登记人数多、流动人口多，需要全流程的工作指导材料。",
        19,
        (
            (
                "propose",
                "bumen",
                "居委会换届选举工作手册",
                "手册按时间线编排，表格模板可以直接用。",
            ),
            ("accept", "居委会换届选举工作手册"),
        ),
    ),
    DemoNeed(
        "xiangyuan",
        "小区消防疏散演练",
        "应急演练",
        N,
        "小区都是 30 层以上的高层，居民从来没有演练过疏散，希望组织一次。",
        15,
        (
            (
                "propose",
                "yingji",
                "社区综合应急演练指导",
                "演练方案由我们提供模板，可以选火灾疏散场景。",
            ),
        ),
    ),
    DemoNeed(
        "changzhengcun",
        "村民医保和长护险政策解读",
        "医疗健康",
        N,
        "村里老人多，对长护险怎么申请、医保怎么报销很不清楚，经常跑冤枉路。",
        9,
        (),
    ),
    DemoNeed(
        "changzhengcun",
        "留守老人助餐服务",
        "养老服务",
        U,
        "村里有 60 多位留守老人，子女都在市区上班，中午吃饭成问题。希望建一个助餐点。",
        21,
        (
            (
                "propose",
                "bumen",
                "社区助餐点运营指导",
                "养老服务专员可以上门帮村里测算用餐人数、选址和申请补贴。",
            ),
            (
                "say",
                "changzhengcun",
                "村委会有一间空置的活动室，面积 80 平方米，能用吗？",
            ),
            ("say", "bumen", "80 平方米够用，专员去的时候一起看看厨房条件。"),
        ),
    ),
    DemoNeed(
        "changzhengcun",
        "河道汛期巡查培训",
        "防汛防台",
        N,
        "村里有两条小河道，汛期需要村民巡查员，但大家不知道看什么、怎么报告。",
        27,
        (
            (
                "propose",
                "yingji",
                "社区防汛防台应急处置培训",
                "培训里有低洼点巡查和预警响应的内容，也可以讲河道巡查。",
            ),
            ("accept", "社区防汛防台应急处置培训"),
        ),
    ),
    DemoNeed(
        "taopu1",
        "村改居后居民就业岗位信息不畅",
        "就业帮扶",
        N,
        "桃浦一村动迁后很多居民失去了原来的工作，找工作的渠道少，希望有招聘会开进社区。",
        17,
        (
            (
                "propose",
                "renshe",
                "社区就业援助专场招聘会",
                "可以在社区办一场专场招聘会，我们邀请附近企业。",
            ),
        ),
    ),
    DemoNeed(
        "taopu1",
        "动迁安置小区邻里纠纷多发",
        "矛盾调解",
        N,
        "安置小区来自不同村的居民混住，停车、晾晒、养狗的纠纷很多，调解员忙不过来。",
        23,
        (
            (
                "propose",
                "sifa",
                "人民调解员业务培训",
                "可以先培训社区的调解员，常见纠纷的法律依据会重点讲。",
            ),
        ),
    ),
    DemoNeed(
        "taopu1",
        "社区台账太多需要减负指导",
        "台账减负",
        N,
        "社区现在要做 40 多本台账，很多内容重复填报，希望有部门来指导哪些可以合并或取消。",
        2,
        (),
    ),
    DemoNeed(
        "liziyuan",
        "村民文化活动场地不足",
        "文化活动",
        L,
        "村里的舞蹈队和腰鼓队没有排练场地，下雨天就只能停练。",
        52,
        (
            (
                "propose",
                "wenlv",
                "区文化馆排练厅借用",
                "排练厅每周有空档，可以固定给你们一个时段。",
            ),
            ("accept", "区文化馆排练厅借用"),
            ("deliver",),
        ),
    ),
    DemoNeed(
        "liziyuan",
        "宅基地和继承法律咨询",
        "法律服务",
        N,
        "村民对宅基地使用权、房屋继承有很多疑问，家庭矛盾也因此增多。",
        12,
        (
            (
                "propose",
                "sifa",
                "民法典进社区巡回讲座",
                "可以选遗嘱继承和相邻关系两个专题。",
            ),
        ),
    ),
    DemoNeed(
        "liziyuan",
        "村里垃圾分类设施不足",
        "垃圾分类",
        N,
        "村里只有两个垃圾投放点，距离远，村民乱扔现象严重，希望增加分类投放设施。",
        6,
        (),
    ),
    DemoNeed(
        "caoyang",
        "党员志愿服务队伍建设",
        "党建引领",
        L,
        "社区在职党员报到人数多，但志愿服务项目少，希望有部门帮忙设计项目。",
        33,
        (("close", "已纳入街道今年的党建引领项目统一推进。"),),
    ),
    DemoNeed(
        "changshou",
        "辖区企业职工心理健康讲座",
        "心理健康",
        L,
        "辖区园区企业职工压力大，企业希望社区牵头办一次心理健康讲座。",
        8,
        (
            (
                "decline",
                "weijian",
                "本季度心理咨询师已排满，建议下季度再提，届时优先安排。",
            ),
        ),
    ),
)


class Command(BaseCommand):
    help = (
        "Load about forty demo needs with answers, orders and conversations, "
        "through the matching services. Run seed_demo and seed_catalog_demo "
        "first. Safe to repeat: needs that exist already are left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        users = {user.username: user for user in User.objects.all()}
        if "shequ" not in users or not OfferingPage.objects.exists():
            raise CommandError(
                _("The demo units or offerings are missing; run seed_demo first.")
            )
        existing = set(Need.objects.values_list("community_id", "title"))
        made = 0
        for demo in DEMO_NEEDS:
            poster = users.get(demo.username)
            if poster is None or (poster.region_id, demo.title) in existing:
                continue
            with transaction.atomic():
                need = self._need_post(demo, poster)
                order = self._story(demo, need, users)
                _spread_in_time(need, order, demo.days_ago)
            made += 1
        self.stdout.write(
            _("%(count)s demo needs loaded.") % {"count": made}
            if made
            else _("The demo needs are already loaded.")
        )

    def _need_post(self, demo: DemoNeed, poster: User) -> Need:
        today = timezone.localdate()
        first, last = demo.preferred or (None, None)
        return need_post(
            user=poster,
            title=demo.title,
            description=demo.description,
            category=Category.objects.get(name=demo.category, parent__isnull=False),
            urgency=demo.urgency,
            preferred_from=today + timedelta(days=first) if first else None,
            preferred_to=today + timedelta(days=last) if last else None,
        )

    def _story(
        self, demo: DemoNeed, need: Need, users: dict[str, User]
    ) -> Order | None:
        """Take the need through its steps; a step the services refuse (the
        catalog changed) is reported and skipped, the rest still runs."""
        poster = users[demo.username]
        order: Order | None = None
        proposer: dict[str, User] = {}
        for step in demo.steps:
            kind, *args = step
            try:
                with transaction.atomic():
                    if kind == "propose":
                        username, title, note = args
                        offering = _offering(title)
                        need_respond(
                            need_id=need.pk,
                            user=users[username],
                            kind=NeedResponseKind.PROPOSAL,
                            offering=offering,
                            note=note,
                        )
                        proposer[title] = users[username]
                    elif kind == "decline":
                        username, reason = args
                        need_respond(
                            need_id=need.pk,
                            user=users[username],
                            kind=NeedResponseKind.DECLINE,
                            note=reason,
                        )
                    elif kind == "accept":
                        (title,) = args
                        order = _accept(need, poster, title)
                    elif kind == "deliver" and order is not None:
                        _deliver(order, proposer_of(order, proposer), poster)
                    elif kind == "close":
                        (reason,) = args
                        need_close(need_id=need.pk, user=poster, reason=reason)
                    elif kind == "say":
                        username, body = args
                        message_post(thread=need, user=users[username], body=body)
                    elif kind == "order_say" and order is not None:
                        username, body = args
                        message_post(thread=order, user=users[username], body=body)
            except (
                NeedError,
                OrderError,
                PermissionDenied,
                ObjectDoesNotExist,
                KeyError,
            ) as error:
                self.stderr.write(f"{demo.title}: {kind} — {error!r}")
        return order


def _offering(title: str) -> OfferingPage:
    return OfferingPage.objects.live().get(title=title)


def proposer_of(order: Order, proposer: dict[str, User]) -> User:
    return proposer.get(order.offering.title) or order.department.members.first()


def _accept(need: Need, poster: User, title: str) -> Order | None:
    """Accept the proposal of ``title``; for a scheduled offering, order its
    first session with seats, as the community would on the order form."""
    response = need.responses.get(kind=NeedResponseKind.PROPOSAL, offering__title=title)
    today = timezone.localdate()
    offering = response.offering
    acceptance = need_accept_proposal(
        response_id=response.pk,
        user=poster,
        participants=30,
        contact_name=poster.get_full_name(),
        contact_phone=poster.phone or "13800000001",
        wished_from=today + timedelta(days=offering.lead_time_days + 7),
        wished_to=today + timedelta(days=offering.lead_time_days + 30),
        note="由需求对接产生。",
    )
    if acceptance.order is not None:
        return acceptance.order
    session = (
        OfferingSession.objects.filter(
            offering=offering,
            starts_at__gt=timezone.now(),
            seats__gte=F("seats_taken") + 20,
        )
        .order_by("starts_at")
        .first()
    )
    if offering.availability != Availability.SCHEDULED or session is None:
        return None
    return order_place(
        user=poster,
        offering=offering,
        session=session,
        participants=20,
        contact_name=poster.get_full_name(),
        contact_phone=poster.phone or "13800000001",
        note="由需求对接产生。",
    )


def _deliver(order: Order, staff: User, poster: User) -> None:
    """Take the order through to the community's confirmation, which fulfils
    the need."""
    order_transition(order_id=order.pk, user=staff, action="accept")
    order_transition(
        order_id=order.pk,
        user=staff,
        action="schedule",
        scheduled_at=timezone.now() - timedelta(days=3),
        scheduled_place="居委会会议室",
        scheduled_people="部门工作人员两名",
    )
    order_transition(
        order_id=order.pk,
        user=staff,
        action="deliver",
        attendance=order.participants,
        delivery_note="按计划完成，居民反响好。",
    )
    order_transition(order_id=order.pk, user=poster, action="confirm")


def _spread_in_time(need: Need, order: Order | None, days_ago: int) -> None:
    """Move the need's story (and its order's) from "now" to ``days_ago`` days
    back, keeping its order, a few hours to a day between steps, so that the
    demo's lists and histories read like weeks of use.

    Events and messages are spread; what the services stamped in the same
    step (the need's posting, an answer, an acceptance, the order's placing)
    then takes the time of its event."""
    stamped = [
        *((NeedEvent, pk, "at", at) for pk, at in need.events.values_list("pk", "at")),
        *(
            (Message, pk, "created_at", at)
            for pk, at in Message.objects.filter(need=need).values_list(
                "pk", "created_at"
            )
        ),
    ]
    if order is not None:
        stamped += [
            *(
                (OrderEvent, pk, "at", at)
                for pk, at in order.events.values_list("pk", "at")
            ),
            *(
                (Message, pk, "created_at", at)
                for pk, at in Message.objects.filter(order=order).values_list(
                    "pk", "created_at"
                )
            ),
        ]
    stamped.sort(key=lambda row: row[3])
    start = timezone.now() - timedelta(days=days_ago, hours=3)
    step = min(timedelta(days=1), timedelta(days=days_ago) * 0.8 / max(len(stamped), 1))
    for index, (model, pk, field, _at) in enumerate(stamped):
        model.objects.filter(pk=pk).update(**{field: start + step * index})
    events = list(NeedEvent.objects.filter(need=need).order_by("at", "pk"))
    Need.objects.filter(pk=need.pk).update(created_at=events[0].at)
    for event in events:
        if event.action in ("propose", "decline"):
            NeedResponse.objects.filter(pk=event.response_id).update(
                created_at=event.at
            )
        elif event.action == "accept":
            NeedResponse.objects.filter(pk=event.response_id).update(
                accepted_at=event.at
            )
    if order is not None:
        # The order's own stamps follow its events: the statistics measure
        # the time to answer from answered_at, and a delivered order took
        # place before its delivery was recorded.
        order_events = list(order.events.order_by("at", "pk"))
        first_at = {event.action: event.at for event in reversed(order_events)}
        answered = [
            first_at[action]
            for action in ("accept", "reject", "cancel")
            if action in first_at
        ]
        stamps = {
            "placed_at": order_events[0].at,
            "changed_at": order_events[-1].at,
            "answered_at": min(answered, default=None),
        }
        if "deliver" in first_at:
            stamps["scheduled_at"] = first_at["deliver"] - timedelta(hours=3)
        # The wished dates were chosen from the day of placing: they move too.
        shift = timedelta(days=(order_events[0].at - order.placed_at).days)
        if order.wished_from and order.wished_to:
            stamps["wished_from"] = order.wished_from + shift
            stamps["wished_to"] = order.wished_to + shift
        Order.objects.filter(pk=order.pk).update(**stamps)
