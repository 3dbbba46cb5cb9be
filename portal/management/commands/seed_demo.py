"""Load the demo district (上海市普陀区) for ``make run`` and print its logins.

The demo rows go through the bulk importer, exactly as an administrator's
spreadsheet would, so the demo exercises the same checks and writes. Only rows
that are missing or differ from the database are imported: a second run finds
nothing to do, writes nothing and records no import. Demo accounts get the demo
password once; a password changed later is kept.
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import is_password_usable, make_password
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.demo_data import spread
from portal.importers import (
    ACCOUNTS,
    COLUMNS,
    COMMUNITY_TYPE_WORDS,
    DEPARTMENT_KIND_WORDS,
    DEPARTMENTS,
    KIND_LABELS,
    KIND_ORDER,
    LEVEL_WORDS,
    REGIONS,
    ROLE_WORDS,
    ImportFileError,
    import_units_file,
    report_lines,
)
from portal.models import (
    CommunityType,
    Department,
    DepartmentKind,
    Region,
    RegionLevel,
    Role,
    User,
)
from portal.roles import ROLE_GROUP_NAMES

# Long enough for AUTH_PASSWORD_VALIDATORS (10+ characters, not common, not numeric).
DEMO_PASSWORD = "diandan-demo-2026"  # noqa: S105

CITY_CODE, CITY_NAME = "310100000000", "上海市"
DISTRICT_CODE, DISTRICT_NAME = "310107000000", "普陀区"

# Streets and towns of the district, with the communities under each: name stems
# by community type. A stem becomes "<stem>居委会"; a rural stem ends in 村 and
# becomes "<stem>村委会". As in the statistical codes, residents' committees
# are numbered from 001 and villagers' committees from 201 within their street.
NEW, OLD = CommunityType.NEW_URBAN, CommunityType.OLD_URBAN
CONVERTED, RURAL = CommunityType.CONVERTED_VILLAGE, CommunityType.RURAL
STREETS: list[tuple[str, str, dict[str, str]]] = [
    (
        "310107005000",
        "曹杨新村街道",
        {
            OLD: "曹杨一村 曹杨二村 曹杨三村 曹杨四村 曹杨五村 曹杨六村 曹杨七村 曹杨八村 "
            "曹杨九村 曹杨新村第一 桂巷 杏梅 梅岭北 兰溪 北石 花溪",
            NEW: "南梅苑 枣阳花园 沙溪家园 源园 中宁公寓 兰花苑",
        },
    ),
    (
        "310107014000",
        "长寿路街道",
        {
            OLD: "长寿新村第一 长寿新村第二 莫干山 西康 胶州 武宁 安远 宜昌 叶家宅 昌化 "
            "大洋 梅芳 普雄 谈家渡 澳门 恒丰",
            NEW: "天安阳光 中远两湾城第一 中远两湾城第二 中远两湾城第三 达安花园 苏河湾 "
            "光新家园 沙田公寓",
        },
    ),
    (
        "310107015000",
        "长风新村街道",
        {
            OLD: "天山新村第一 天山新村第二 长风一村 长风二村 长风三村 长风四村 白玉 大渡河 "
            "云岭西 金沙江 泸定 怒江 枣阳 清涧",
            NEW: "长风新苑 华生苑 海珀花园 金沙雅苑 中海万锦 鼎邦公寓 梦清苑 九龙花园 曦园 "
            "锦绣华庭 长风馨苑 滨江公寓",
        },
    ),
    (
        "310107016000",
        "甘泉路街道",
        {
            OLD: "甘泉一村 甘泉二村 甘泉三村 甘泉四村 甘泉五村 甘泉六村 甘泉七村 双山 南泉 "
            "西乡 志丹 宜川 交暨 黄陵 新沪 延长 子长 洛川",
            NEW: "甘泉苑 志丹苑 新泉苑 阳光家园 泉南公寓 黄陵花园",
        },
    ),
    (
        "310107017000",
        "石泉路街道",
        {
            OLD: "石泉一村 石泉二村 石泉三村 石泉四村 石泉五村 石泉六村 石泉七村 石泉八村 "
            "中山 铜川 兰田 光新 曹家巷 管弄 金岭 延长中 合阳 岚皋",
            NEW: "石泉苑 金岭苑 兰溪花园 平利公寓 凯旋花园 铜川家园",
        },
    ),
    (
        "310107020000",
        "宜川路街道",
        {
            OLD: "宜川一村 宜川二村 宜川三村 宜川四村 宜川五村 宜川六村 洵阳 安塞 华阴 宜君 "
            "富平 绥德 镇坪 黄陵北 延长西 怡景 西乡北 三泉",
            NEW: "宜川苑 宜川新苑 怡祥苑 华阳公寓 新华花园 绿地宜川",
        },
    ),
    (
        "310107021000",
        "万里街道",
        {
            OLD: "万里一村 万里二村 新村路 真华",
            NEW: "万里城第一 万里城第二 万里城第三 万里城第四 万里城第五 万里城第六 万里雅苑 "
            "新城公寓 大华锦绣 大华清水湾 景翠 万里馨苑 万欣 万祥 大华愉景 中环家园",
        },
    ),
    (
        "310107022000",
        "真如镇街道",
        {
            OLD: "真如一村 真如二村 真如三村 真如四村 铜川路 星光 真光一村 真光二村 真光三村 "
            "真北 东港 杨家桥 中山西 清峪 李子园 西兴",
            NEW: "真如苑 真如新苑 星光耀 真如花园 曹杨华庭 如意苑 真光花园 光华公寓 真华家园 "
            "祁连花园 兰溪华庭 合景",
        },
    ),
    (
        "310107102000",
        "长征镇",
        {
            NEW: "象源丽都 嘉怡 清水湾 中环名品 金鼎 红旗 锦秋 保利叶语 新长征 梅川",
            CONVERTED: "长征新苑 大洋苑 建华 新曹杨 怒江苑 祁连 真西 沪太 长北 金岭新苑 中关 "
            "杨柳 北巷 新渡",
            RURAL: "长征村 郑家村 建华村 沈家村 新渡村 大洋村",
        },
    ),
    (
        "310107103000",
        "桃浦镇",
        {
            NEW: "桃浦新苑 中环景苑 金光花园 远景家园 新杨苑 武威东 桃源 桃浦智创城",
            CONVERTED: "桃浦一村 桃浦二村 桃浦三村 桃浦四村 桃浦五村 桃浦六村 桃浦七村 "
            "桃浦八村 桃浦九村 新杨 雪松 武威",
            RURAL: "李子园村 槎浦村 星火村 红星村 桃浦村 新杨村 老街村 蔡家村 钱家村 高家村",
        },
    ),
]

# Departments: code, name, family (as seeded by migration 0003; none for the
# organization department) and the region served.
ORGANIZATION_CODE = "PT-ZZB"
DEPARTMENT_ROWS: list[tuple[str, str, str, str]] = [
    (ORGANIZATION_CODE, "中共普陀区委组织部", "", DISTRICT_CODE),
    ("PT-MZ", "普陀区民政局", "民政", DISTRICT_CODE),
    ("PT-WJ", "普陀区卫生健康委员会", "卫健", DISTRICT_CODE),
    ("PT-GA", "上海市公安局普陀分局", "公安", DISTRICT_CODE),
    ("PT-YJ", "普陀区应急管理局", "应急管理", DISTRICT_CODE),
    ("PT-SF", "普陀区司法局", "司法", DISTRICT_CODE),
    ("PT-RS", "普陀区人力资源和社会保障局", "人社", DISTRICT_CODE),
    ("PT-CG", "普陀区城市管理行政执法局", "城管", DISTRICT_CODE),
    ("PT-WL", "普陀区文化和旅游局", "文旅", DISTRICT_CODE),
    ("PT-JW", "普陀区建设和管理委员会", "住建", DISTRICT_CODE),
    ("PT-FG", "普陀区房屋管理局", "房管", DISTRICT_CODE),
    ("PT-SCJG", "普陀区市场监督管理局", "市场监管", DISTRICT_CODE),
    ("PT-STHJ", "普陀区生态环境局", "生态环境", DISTRICT_CODE),
    ("PT-JY", "普陀区教育局", "教育", DISTRICT_CODE),
    ("PT-TYJR", "普陀区退役军人事务局", "退役军人", DISTRICT_CODE),
    ("PT-CL", "普陀区残疾人联合会", "残联", DISTRICT_CODE),
    ("PT-FL", "普陀区妇女联合会", "妇联", DISTRICT_CODE),
    ("PT-TQW", "共青团上海市普陀区委员会", "团委", DISTRICT_CODE),
    ("PT-ZGH", "普陀区总工会", "工会", DISTRICT_CODE),
    ("PT-YB", "普陀区医疗保障局", "医保", DISTRICT_CODE),
    ("PT-XF", "普陀区消防救援支队", "消防", DISTRICT_CODE),
    ("PT-GHZY", "普陀区规划和自然资源局", "规划资源", DISTRICT_CODE),
    ("PT-SW", "普陀区水务局", "水务", DISTRICT_CODE),
    ("PT-JT", "普陀区交通委员会", "交通", DISTRICT_CODE),
    ("PT-SWW", "普陀区商务委员会", "商务", DISTRICT_CODE),
    ("PT-KW", "普陀区科学技术委员会", "科技", DISTRICT_CODE),
    ("PT-CZ", "普陀区财政局", "财政", DISTRICT_CODE),
    ("PT-TJ", "普陀区统计局", "统计", DISTRICT_CODE),
    ("PT-XFB", "普陀区信访办公室", "信访", DISTRICT_CODE),
    ("PT-SJJ", "普陀区数据局", "数据局", DISTRICT_CODE),
    ("PT-LHSR", "普陀区绿化和市容管理局", "绿化市容", DISTRICT_CODE),
    ("PT-SWJ", "国家税务总局上海市普陀区税务局", "税务", DISTRICT_CODE),
    # Street-level units that work with communities every day.
    ("PT-CF-SWZX", "长风新村街道社区事务受理服务中心", "民政", "310107015000"),
    ("PT-GQ-SWZX", "甘泉路街道社区事务受理服务中心", "民政", "310107016000"),
    ("PT-CZ-SWZX", "长征镇社区事务受理服务中心", "民政", "310107102000"),
    ("PT-TP-SWZX", "桃浦镇社区事务受理服务中心", "民政", "310107103000"),
    ("PT-CF-WSFW", "长风社区卫生服务中心", "卫健", "310107015000"),
    ("PT-CY-WSFW", "曹杨社区卫生服务中心", "卫健", "310107005000"),
    ("PT-CF-PCS", "长风新村派出所", "公安", "310107015000"),
    ("PT-ZR-PCS", "真如派出所", "公安", "310107022000"),
]

# Each functional department's duties (职责), as a 三定方案 summary would put
# them: need routing reads them, so they name the things communities ask for.
DEPARTMENT_DUTIES: dict[str, str] = {
    "PT-MZ": "负责全区养老服务体系建设，指导社区养老服务设施、长者食堂和助餐点运营；"
    "负责最低生活保障、特困供养、临时救助等社会救助；指导居村委会建设、换届选举和"
    "居民自治，推进社区协商议事；负责社会组织登记管理和社会工作者队伍建设；负责"
    "婚姻登记、殡葬管理和儿童福利、困境儿童保障。",
    "PT-WJ": "负责全区医疗卫生和公共卫生服务，推进家庭医生签约和社区卫生服务；组织"
    "传染病防控、预防接种和慢性病管理；负责精神卫生和心理健康服务；开展健康教育、"
    "爱国卫生运动和病媒生物防制；负责老年健康、妇幼保健和院前急救培训。",
    "PT-GA": "负责全区社会治安管理，预防、制止和侦查违法犯罪；开展电信网络诈骗防范"
    "宣传和反诈预警劝阻；负责户籍、居住证和流动人口管理；负责群防群治和治安巡防"
    "队伍指导；负责道路交通安全管理和非机动车违法整治；负责重点人员和独居老人安全"
    "走访。",
    "PT-YJ": "负责全区应急管理和安全生产综合监管，组织编制应急预案并指导社区应急"
    "演练；负责防汛防台、自然灾害防治和灾情救助，统筹应急物资储备和避难场所；"
    "负责有限空间、危险化学品和燃气使用安全的综合协调；开展防灾减灾宣传和应急"
    "避险知识普及。",
    "PT-SF": "负责全区法治宣传教育和普法工作，组织一村居一法律顾问；负责人民调解"
    "工作和调解员培训，化解矛盾纠纷；负责法律援助、公证和律师管理；负责社区矫正和"
    "安置帮教；审核规范性文件，推进依法治理。",
    "PT-RS": "负责全区就业创业促进和职业技能培训，组织招聘会和就业援助，帮扶失业"
    "人员、就业困难人员和高校毕业生；负责养老、失业、工伤保险政策经办和社保卡"
    "服务；负责劳动关系协调、劳动争议调解仲裁和劳动保障监察，处理欠薪投诉。",
    "PT-CG": "负责全区城市管理综合执法，查处违法建筑、擅自改变房屋用途、群租和"
    "占道经营、无证设摊；负责市容环境和生活垃圾分类执法；查处建筑渣土乱倒、"
    "夜间施工噪声扰民和户外广告违规设置；推进城管执法进社区。",
    "PT-WL": "负责全区公共文化服务体系建设，组织文化配送、群众文艺团队和文化活动；"
    "负责图书馆、文化馆和社区文化活动中心业务指导；负责文物保护和非物质文化遗产"
    "传承；负责旅游推广和文化市场管理；组织全民阅读推广。",
    "PT-JW": "负责全区建设工程和市政基础设施管理，推进既有多层住宅加装电梯、老旧"
    "小区综合改造和美丽家园建设；负责建设工程质量安全和文明施工监管；负责道路"
    "维修、管线和架空线入地等城市更新项目。",
    "PT-FG": "负责全区住宅小区物业管理和房屋安全管理，指导业主大会、业委会组建和"
    "换届；监督物业服务企业，调处物业服务纠纷；负责住宅专项维修资金的使用监管；"
    "负责房屋修缮、二次供水改造和房屋租赁管理。",
    "PT-SCJG": "负责全区市场主体登记和市场秩序监管，查处假冒伪劣、价格违法和虚假"
    "宣传；负责食品安全监管和餐饮服务食品安全检查；负责药品、医疗器械、特种设备"
    "（电梯）安全监管；受理消费投诉举报，维护消费者权益。",
    "PT-STHJ": "负责全区生态环境保护和污染防治，监督大气、水、土壤和噪声污染；"
    "推进生活垃圾分类减量和资源回收；组织环境保护宣传教育和绿色社区创建；受理"
    "油烟、异味、噪声等环境信访投诉。",
    "PT-JY": "负责全区学前教育、义务教育和终身教育，统筹学校招生入学和学区管理；"
    "负责校外培训监管和课后服务、暑期托管；指导家庭教育和家校社协同育人；负责"
    "老年教育、社区学校和学生心理健康教育。",
    "PT-TYJR": "负责全区退役军人服务保障，指导街镇和村居退役军人服务站建设；负责"
    "退役军人安置就业、优待抚恤、褒扬纪念和权益维护；组织走访慰问、光荣牌悬挂"
    "和烈士纪念设施管理。",
    "PT-CL": "负责全区残疾人权益维护和服务，组织残疾人康复、辅助器具适配和托养照料；"
    "推进残疾人就业、无障碍环境建设和家庭无障碍改造；负责残疾人证办理和困难残疾人"
    "生活补贴、重度残疾人护理补贴。",
    "PT-FL": "负责维护妇女儿童合法权益，受理妇女维权投诉，开展反家庭暴力和婚姻家庭"
    "纠纷调解；组织家庭教育指导和最美家庭创建；推进妇女创业就业和巾帼志愿服务；"
    "关爱困境妇女和留守、困境儿童。",
    "PT-TQW": "负责全区共青团和青少年工作，组织青年志愿者服务和社区结对；开展青少年"
    "思想引领和权益保护，负责青少年事务社工和预防青少年违法犯罪；组织少先队和"
    "青年人才服务，推进青年发展型城区建设。",
    "PT-ZGH": "负责全区职工权益维护，开展职工法律援助和劳动争议调解；组织新就业形态"
    "劳动者（快递员、外卖骑手）入会和暖心驿站建设；开展职工技能竞赛、困难职工帮扶"
    "和职工文体活动。",
    "PT-YB": "负责全区医疗保障，经办职工医保和城乡居民医保参保缴费、待遇报销；负责"
    "长期护理保险评估和服务管理；负责医疗救助和门诊大病登记；查处欺诈骗取医保"
    "基金行为。",
    "PT-XF": "负责全区火灾扑救和应急救援，开展消防监督检查和火灾隐患排查整治；指导"
    "微型消防站建设和志愿消防队训练；负责电动自行车违规停放充电、楼道堆物和消防"
    "通道占用整治；开展消防安全宣传教育和疏散逃生演练。",
    "PT-GHZY": "负责全区国土空间规划和土地管理，编制控制性详细规划和社区生活圈规划；"
    "负责建设项目规划许可和历史风貌保护；推进社区规划师制度和公共空间微更新。",
    "PT-SW": "负责全区河道管理、排水管网和防汛排涝设施运行维护；负责供水水质和"
    "二次供水监管、节约用水；治理积水点和雨污混接，负责河长制工作和水环境治理。",
    "PT-JT": "负责全区交通规划和公共交通管理，优化公交线路和站点设置；负责停车场"
    "建设和停车管理，推进错峰共享停车；负责非机动车停放和道路交通组织优化。",
    "PT-SWW": "负责全区商业网点规划和社区商业建设，推进十五分钟便民生活圈、菜市场"
    "和早餐网点布局；负责商贸流通、家政服务业和老字号发展；指导商务领域安全生产。",
    "PT-KW": "负责全区科技创新和科学普及，组织科普日、科普讲座和社区科普活动；推动"
    "科技企业孵化和知识产权保护；负责智慧社区等科技应用推广。",
    "PT-CZ": "负责全区财政预算编制和执行，管理社区工作经费和政府采购；负责财政资金"
    "监督检查和会计管理，推进预算绩效管理。",
    "PT-TJ": "负责全区统计调查和统计数据发布，组织人口普查、经济普查等重大国情国力"
    "调查；指导基层统计工作，防范统计造假。",
    "PT-XFB": "负责全区信访工作，受理群众来信来访和网上信访，交办督办信访事项；"
    "组织矛盾纠纷排查化解和重复信访治理；指导街镇和社区信访代理与群众工作。",
    "PT-SJJ": "负责全区数据资源管理和数字政府建设，推进一网通办、一网统管平台在"
    "社区的应用；负责社区数据共享和基层报表整合，减少重复填报；开展数字化工具培训"
    "和适老化数字服务。",
    "PT-LHSR": "负责全区绿化建设和市容环境卫生管理，负责公园绿地养护、行道树和小区"
    "树木修剪；负责生活垃圾收运、大件垃圾和装修垃圾清运；负责公共厕所、道路保洁和"
    "户外招牌设置管理。",
    "PT-SWJ": "负责全区税收征管和纳税服务，办理个人所得税汇算清缴、社保费征缴和"
    "发票业务；开展税收政策宣传和办税辅导，落实减税降费政策。",
    "PT-CF-SWZX": "负责长风新村街道社区事务受理，办理社会救助、养老服务补贴、居住证、"
    "社保卡和医保等事项；为行动不便的老人和残疾人提供上门代办；负责街道社区活动"
    "中心场地管理。",
    "PT-GQ-SWZX": "负责甘泉路街道社区事务受理，办理社会救助、养老服务、就业登记和"
    "社保医保等事项；负责街道社区活动中心和市民驿站场地开放预约。",
    "PT-CZ-SWZX": "负责长征镇社区事务受理，办理社会救助、养老和就业等事项；负责镇市民"
    "健身中心和社区体育场馆开放，组织全民健身活动。",
    "PT-TP-SWZX": "负责桃浦镇社区事务受理，办理社会救助、就业登记和社保等事项；向村居"
    "推送就业岗位，组织镇级招聘活动和农村富余劳动力就业帮扶。",
    "PT-CF-WSFW": "负责长风新村街道居民基本医疗和公共卫生服务，提供家庭医生签约、"
    "健康小屋巡诊、预防接种和慢病随访；为行动不便老人提供上门诊疗。",
    "PT-CY-WSFW": "负责曹杨新村街道居民基本医疗和公共卫生服务，组织老年人健康体检、"
    "家庭医生签约、预防接种和慢病管理。",
    "PT-CF-PCS": "负责长风新村街道辖区治安管理和户籍服务，开展社区警务、反诈宣传和"
    "治安巡逻，调处辖区治安纠纷。",
    "PT-ZR-PCS": "负责真如镇街道辖区治安管理和户籍服务，开展社区警务和反诈宣传，会同"
    "人民调解员调处邻里纠纷。",
}

# Accounts: username, full name, unit code, role, e-mail, phone. The first six,
# one per role, are the ones to try first.
ACCOUNT_ROWS: list[tuple[str, str, str, str, str, str]] = [
    (
        "shequ",
        "王丽",
        "310107015001",
        Role.COMMUNITY_OPERATOR,
        "wangli@example.cn",
        "13800000001",
    ),
    (
        "jiedao",
        "张敏",
        "310107015000",
        Role.STREET_OFFICE,
        "zhangmin@example.cn",
        "13800000002",
    ),
    (
        "bumen",
        "李强",
        "PT-MZ",
        Role.DEPARTMENT_PUBLISHER,
        "liqiang@example.cn",
        "13800000003",
    ),
    (
        "fuzeren",
        "陈建国",
        "PT-MZ",
        Role.DEPARTMENT_APPROVER,
        "chenjianguo@example.cn",
        "13800000004",
    ),
    (
        "zuzhibu",
        "刘洋",
        ORGANIZATION_CODE,
        Role.ORGANIZATION_DEPARTMENT,
        "liuyang@example.cn",
        "13800000005",
    ),
    (
        "admin",
        "赵磊",
        ORGANIZATION_CODE,
        Role.ADMINISTRATOR,
        "zhaolei@example.cn",
        "13800000006",
    ),
    # More community operators, one in every street or town.
    (
        "caoyang",
        "孙静",
        "310107005001",
        Role.COMMUNITY_OPERATOR,
        "sunjing@example.cn",
        "",
    ),
    (
        "changshou",
        "周婷",
        "310107014001",
        Role.COMMUNITY_OPERATOR,
        "zhouting@example.cn",
        "",
    ),
    (
        "ganquan",
        "吴刚",
        "310107016001",
        Role.COMMUNITY_OPERATOR,
        "wugang@example.cn",
        "",
    ),
    (
        "shiquan",
        "郑华",
        "310107017001",
        Role.COMMUNITY_OPERATOR,
        "zhenghua@example.cn",
        "",
    ),
    (
        "yichuan",
        "钱芳",
        "310107020001",
        Role.COMMUNITY_OPERATOR,
        "qianfang@example.cn",
        "",
    ),
    (
        "wanli",
        "黄伟",
        "310107021005",
        Role.COMMUNITY_OPERATOR,
        "huangwei@example.cn",
        "",
    ),
    ("zhenru", "徐燕", "310107022001", Role.COMMUNITY_OPERATOR, "xuyan@example.cn", ""),
    (
        "xiangyuan",
        "陆佳怡",
        "310107102001",
        Role.COMMUNITY_OPERATOR,
        "lujiayi@example.cn",
        "",
    ),
    (
        "changzhengcun",
        "朱军",
        "310107102201",
        Role.COMMUNITY_OPERATOR,
        "zhujun@example.cn",
        "",
    ),
    ("taopu1", "胡敏", "310107103009", Role.COMMUNITY_OPERATOR, "humin@example.cn", ""),
    (
        "liziyuan",
        "郭峰",
        "310107103201",
        Role.COMMUNITY_OPERATOR,
        "guofeng@example.cn",
        "",
    ),
    # More street and town offices.
    (
        "changzheng",
        "何丽萍",
        "310107102000",
        Role.STREET_OFFICE,
        "heliping@example.cn",
        "",
    ),
    ("taopu", "高翔", "310107103000", Role.STREET_OFFICE, "gaoxiang@example.cn", ""),
    # More department publishers and approvers.
    ("weijian", "林慧", "PT-WJ", Role.DEPARTMENT_PUBLISHER, "linhui@example.cn", ""),
    ("weijian_fz", "马骏", "PT-WJ", Role.DEPARTMENT_APPROVER, "majun@example.cn", ""),
    ("yingji", "罗琳", "PT-YJ", Role.DEPARTMENT_PUBLISHER, "luolin@example.cn", ""),
    ("sifa", "梁晨", "PT-SF", Role.DEPARTMENT_PUBLISHER, "liangchen@example.cn", ""),
    ("renshe", "宋佳", "PT-RS", Role.DEPARTMENT_PUBLISHER, "songjia@example.cn", ""),
    ("wenlv", "谢明", "PT-WL", Role.DEPARTMENT_PUBLISHER, "xieming@example.cn", ""),
    ("canlian", "韩雪", "PT-CL", Role.DEPARTMENT_PUBLISHER, "hanxue@example.cn", ""),
    (
        "xiaofang",
        "唐亮",
        "PT-XF",
        Role.DEPARTMENT_PUBLISHER,
        "tangliang@example.cn",
        "",
    ),
    (
        "shouli",
        "冯晓燕",
        "PT-CF-SWZX",
        Role.DEPARTMENT_PUBLISHER,
        "fengxiaoyan@example.cn",
        "",
    ),
    (
        "jianfuban",
        "董振华",
        ORGANIZATION_CODE,
        Role.ORGANIZATION_DEPARTMENT,
        "dongzhenhua@example.cn",
        "",
    ),
]


def demo_regions() -> list[dict[str, Any]]:
    """The city, the district, its streets and their communities, parents first."""
    regions: list[dict[str, Any]] = [
        {
            "code": CITY_CODE,
            "name": CITY_NAME,
            "level": RegionLevel.CITY,
            "parent_code": "",
        },
        {
            "code": DISTRICT_CODE,
            "name": DISTRICT_NAME,
            "level": RegionLevel.DISTRICT,
            "parent_code": CITY_CODE,
        },
    ]
    communities: list[dict[str, Any]] = []
    for street_code, street_name, stems_by_type in STREETS:
        regions.append(
            {
                "code": street_code,
                "name": street_name,
                "level": RegionLevel.STREET,
                "parent_code": DISTRICT_CODE,
            }
        )
        residents, villagers = 1, 201
        for community_type, stems in stems_by_type.items():
            for stem in stems.split():
                if community_type == RURAL:
                    number, villagers = villagers, villagers + 1
                    name, households = f"{stem}村委会", (500, 1500)
                else:
                    number, residents = residents, residents + 1
                    name, households = f"{stem}居委会", (800, 3500)
                code = f"{street_code[:9]}{number:03d}"
                count = spread(code, "households", *households)
                communities.append(
                    {
                        "code": code,
                        "name": name,
                        "level": RegionLevel.COMMUNITY,
                        "parent_code": street_code,
                        "community_type": community_type,
                        "households": count,
                        # 2.1 to 2.9 people per household.
                        "population": count * spread(code, "people", 210, 290) // 100,
                    }
                )
    return [*regions, *communities]


def demo_departments() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": name,
            "family": family,
            "region_code": region_code,
            "duties": DEPARTMENT_DUTIES.get(code, ""),
            "kind": DepartmentKind.FUNCTIONAL
            if family
            else DepartmentKind.ORGANIZATION,
        }
        for code, name, family, region_code in DEPARTMENT_ROWS
    ]


def demo_accounts() -> list[dict[str, Any]]:
    fields = ("username", "name", "unit_code", "role", "email", "phone")
    return [dict(zip(fields, row, strict=True)) for row in ACCOUNT_ROWS]


def demo_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        REGIONS: demo_regions(),
        DEPARTMENTS: demo_departments(),
        ACCOUNTS: demo_accounts(),
    }


def demo_is_loaded(rows: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether every demo region, department and account exists already.

    The import would only update them to the same values, so a second
    ``make run`` skips it and leaves no import record behind.
    """
    return (
        Region.objects.filter(code__in=[r["code"] for r in rows[REGIONS]]).count()
        == len(rows[REGIONS])
        and Department.objects.filter(
            code__in=[d["code"] for d in rows[DEPARTMENTS]]
        ).count()
        == len(rows[DEPARTMENTS])
        # Demo databases loaded before departments had duties get them.
        and not Department.objects.filter(
            code__in=list(DEPARTMENT_DUTIES), duties=""
        ).exists()
        and User.objects.filter(
            username__in=[a["username"] for a in rows[ACCOUNTS]]
        ).count()
        == len(rows[ACCOUNTS])
    )


# ---------------------------------------------------------------- the spreadsheet

# Words the importer reads back into the values above (their first synonym).
_CELL_WORDS: dict[str, dict[str, dict[Any, tuple[str, ...]]]] = {
    REGIONS: {"level": LEVEL_WORDS, "community_type": COMMUNITY_TYPE_WORDS},
    DEPARTMENTS: {"kind": DEPARTMENT_KIND_WORDS},
    ACCOUNTS: {"role": ROLE_WORDS},
}


def _cell(kind: str, field_name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    words = _CELL_WORDS[kind].get(field_name)
    return words[value][0] if words else str(value)


def write_workbook(rows: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """One sheet per kind, with the importer's Chinese headers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for kind in KIND_ORDER:
        if not rows[kind]:
            continue
        sheet = workbook.create_sheet(str(KIND_LABELS[kind]))
        sheet.append([aliases[0] for aliases in COLUMNS[kind].values()])
        for row in rows[kind]:
            sheet.append([_cell(kind, f, row.get(f)) for f in COLUMNS[kind]])
    workbook.save(path)


def _display_width(text: str) -> int:
    """Columns a terminal gives ``text``: two for each Chinese character."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


class Command(BaseCommand):
    help = (
        "Load the demo district (上海市普陀区: streets, communities, departments and an "
        "account for every role) through the bulk importer and print the demo logins. "
        "Safe to repeat: a second run changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo_rows()
        if demo_is_loaded(rows):
            self.stdout.write(_("The demo data is already loaded."))
        else:
            self._import(rows)
        self._set_passwords()
        self._print_logins()

    def _import(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        with tempfile.TemporaryDirectory(prefix="seed_demo-") as folder:
            path = Path(folder) / "seed_demo.xlsx"
            write_workbook(rows, path)
            try:
                # Demo accounts get the demo password, not set-password e-mails
                # to made-up addresses.
                report = import_units_file(
                    path, dry_run=False, mail_invitations=False, file_name=path.name
                )
            except ImportFileError as error:
                raise CommandError(str(error)) from error
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                _("%(count)s errors; nothing was imported.")
                % {"count": report.error_count}
            )

    def _set_passwords(self) -> None:
        """Give the demo password to demo accounts that cannot sign in yet.

        Hashing is deliberately slow (about half a second each), so the hash is
        computed once and shared rather than calling set_password per account.
        """
        usernames = [row[0] for row in ACCOUNT_ROWS]
        without = [
            pk
            for pk, password in User.objects.filter(username__in=usernames).values_list(
                "pk", "password"
            )
            if not is_password_usable(password)
        ]
        if without:
            User.objects.filter(pk__in=without).update(
                password=make_password(DEMO_PASSWORD)
            )
            self.stdout.write(
                _("Demo password set for %(count)s accounts.") % {"count": len(without)}
            )

    def _print_logins(self) -> None:
        users = {
            user.username: user
            for user in User.objects.filter(
                username__in=[row[0] for row in ACCOUNT_ROWS]
            ).select_related("region", "department")
        }
        table = [[_("Username"), _("Role"), _("Unit"), _("Password")]]
        table += [
            [
                user.username,
                ROLE_GROUP_NAMES.get(user.role, user.role),
                str(user.unit or ""),
                DEMO_PASSWORD,
            ]
            for username, *_rest in ACCOUNT_ROWS
            if (user := users.get(username))
        ]
        widths = [max(_display_width(row[i]) for row in table) for i in range(4)]
        self.stdout.write("")
        self.stdout.write(_("Demo logins (a password changed since is kept):"))
        for number, row in enumerate(table):
            line = "  ".join(
                _pad(cell, width) for cell, width in zip(row, widths, strict=True)
            )
            self.stdout.write(line.rstrip())
            if number == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
