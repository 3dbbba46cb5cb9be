"""Load about seventy demo offerings of the demo district's departments, and
publish a few collections (专题) of them.

The offerings go through the bulk import of offerings (published), exactly as
a department's spreadsheet would, so the demo exercises the same checks and
writes. Only offerings that are missing are imported: a second run finds
nothing to do and writes nothing. Sessions fall in the weeks after the first
run. Collections are made once, by slug, and left alone afterwards. Run
``seed_demo`` first: it creates the departments and their pages.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.importers import (
    AVAILABILITY_WORDS,
    COLUMNS,
    DELIVERY_MODE_WORDS,
    import_offerings_file,
)
from catalog.models import (
    SHARED_RESOURCE_KINDS,
    Availability,
    CatalogCollectionPage,
    Category,
    DeliveryMode,
    DepartmentPage,
    OfferingKind,
    OfferingPage,
)
from catalog.services import collection_index_page
from portal.demo_data import spread
from portal.importers import ImportFileError, report_lines
from portal.management.commands.seed_demo import (
    DEPARTMENT_ROWS,
    DISTRICT_CODE,
    STREETS,
)

# One offering a line: department code | kind | category | title | tags |
# community types (empty: all) | summary | body, its paragraphs split by " // ".
OFFERINGS = """
PT-XF|培训课程|安全应急/消防安全|社区消防安全知识培训|消防、灭火器、逃生||消防员走进社区，讲解家庭火灾预防、灭火器使用和高层住宅逃生要点，并带居民现场实操。|讲解电动自行车入户充电、厨房用火、老旧电线等常见火灾隐患。 // 现场演示干粉灭火器和消防软管卷盘的使用，居民分组实操。 // 结合小区楼道实际，演练高层住宅疏散路线。
PT-XF|服务项目|安全应急/消防安全|老旧小区消防隐患上门排查|隐患排查、老旧小区|老城区|消防监督员会同社区对楼道堆物、飞线充电、消防通道占用等隐患逐楼排查，出具整改清单。|排查前由社区确定重点楼栋，消防监督员和微型消防站队员共同上门。 // 排查结束当天出具隐患清单，按风险分级，社区可直接用于后续跟踪，不需另报材料。
PT-XF|培训课程|安全应急/应急演练|微型消防站队员实战训练|微型消防站、实训||面向社区微型消防站队员和志愿者，开展器材操作、初期火灾扑救和协同处置训练。|内容包括水带连接、消火栓出水、破拆工具使用和初期火灾扑救。 // 训练结束后进行考核，合格者由支队统一记录，不需社区另建台账。
PT-XF|赋能项目|安全应急/消防安全|电动自行车安全充电宣传周|电动自行车、充电||以一周为期，在社区集中开展电动自行车安全充电宣传、集中充电设施使用指导和违规充电劝导。|支队提供展板、宣传视频和典型案例材料，社区只需提供场地。 // 可配合物业开展一次楼道飞线充电联合劝导。
PT-XF|场地|安全应急/应急演练|普陀消防科普教育基地参观|科普、参观||组织居民到消防科普教育基地参观，体验烟雾逃生、火场报警和灭火模拟。|基地每次可接待一个社区的团队，由专职讲解员带领全程参观体验。 // 适合亲子家庭、老年人团队和社区志愿者。
PT-YJ|培训课程|安全应急/防汛防台|社区防汛防台应急处置培训|防汛、防台、应急预案||讲解台风暴雨期间社区转移安置、低洼积水点巡查和物资保障要点，帮助社区修订应急预案。|结合普陀区历年汛情，讲解预警分级和社区响应动作。 // 现场指导社区梳理低洼积水点、危旧房屋和需转移人员名单。
PT-YJ|服务项目|安全应急/应急演练|社区综合应急演练指导|应急演练、疏散||应急管理局派员帮助社区设计并组织一次火灾、燃气泄漏或极端天气综合应急演练。|演练方案由局里提供模板并协助完善，社区不必另写方案。 // 演练后当场点评，形成简明的改进要点。
PT-YJ|设备|安全应急/应急演练|应急照明设备借用|应急照明、设备借用||出借移动应急照明灯组、便携式发电机和警戒围栏，供社区演练、夜间抢险和大型活动使用。|每套含移动照明灯塔一台、便携式发电机一台、警戒围栏二十米。 // 借用期一般不超过七天，由局里负责送达和回收。
PT-YJ|资料|安全应急/应急演练|家庭应急物资储备清单与宣传册|应急包、宣传资料||提供家庭应急物资储备清单、应急包配置指南和宣传册，社区可直接发放或张贴。|宣传册按老年人阅读习惯设计，字大图多。 // 可按社区户数提供印刷品，也可提供电子版自行打印。
PT-YJ|专家|安全应急/防汛防台|防汛专家驻点指导|防汛、专家||汛期由防汛专家到低洼易涝社区驻点，指导排水设施检查和应急物资预置。|专家驻点半天，现场查看排水口、地下车库和低洼楼栋。 // 提出的建议以清单形式留给社区，不需社区再写报告。
PT-GA|培训课程|安全应急/反诈宣传|老年人防诈骗宣传讲座|反诈、老年人||社区民警结合本区真实案例，讲解保健品、养老投资、冒充公检法等针对老年人的诈骗手法。|讲座时长约一个半小时，配合真实案例视频和现场问答。 // 结束后协助居民安装国家反诈中心App并开启预警功能。
PT-GA|服务项目|安全应急/反诈宣传|反诈宣传进楼组|反诈、楼组||民警和社区志愿者一起进楼组、进家庭，面对面提示近期高发诈骗类型。|每次覆盖三到五个楼组，重点走访独居老人和新入住居民。 // 宣传品由公安分局提供，社区不必自备。
PT-GA|培训课程|基层治理/矛盾调解|社区治安巡防志愿者培训|平安志愿者、巡防||培训社区治安巡防志愿者的巡逻要点、可疑情况识别和报警处置流程。|讲解楼道、地下车库和快递驿站等重点部位的巡查方法。 // 演练发现可疑人员和突发纠纷时的处置与报警。
PT-GA|服务项目|民生服务/养老服务|独居老人安全守护走访|独居老人、走访|老城区|社区民警定期走访独居老人，检查门窗和燃气安全，建立紧急联系方式。|走访情况由派出所记录，不要求社区另行填报。 // 发现安全隐患时当场联系物业或相关部门处理。
PT-CF-PCS|服务项目|安全应急/反诈宣传|长风反诈小课堂|反诈、长风||长风新村派出所民警每月到辖区社区开一次反诈小课堂，讲当月本地真实案例。|每次半小时，时间灵活，可安排在社区已有活动之后。 // 可根据社区需要侧重网购、兼职刷单或养老诈骗。
PT-ZR-PCS|服务项目|基层治理/矛盾调解|真如片区邻里纠纷联合调处|邻里纠纷、调解||真如派出所社区民警与人民调解员一起，上门调处噪音、漏水、停车等邻里纠纷。|社区只需转交纠纷线索，派出所负责联络当事人。 // 调处结果告知社区，无需社区再写情况说明。
PT-WJ|服务项目|民生服务/心理健康|心理疏导进社区|心理健康、疏导||精神卫生中心心理咨询师到社区开展团体心理辅导和一对一咨询，关注独居老人、困境家庭和社区工作者。|团体辅导围绕情绪管理、睡眠和亲子沟通等主题。 // 一对一咨询严格保密，需要转介的由咨询师直接对接医院。
PT-WJ|培训课程|民生服务/医疗健康|家庭医生签约服务宣讲|家庭医生、签约||讲解家庭医生签约的内容、慢病长处方和上门服务，现场办理签约。|由社区卫生服务中心家庭医生团队主讲。 // 现场可为居民测量血压血糖并答疑。
PT-WJ|服务项目|民生服务/医疗健康|慢性病健康管理小组|慢病、高血压、糖尿病||为社区高血压、糖尿病患者组建自我管理小组，每月一次活动，医生跟踪指导。|小组由十到二十名居民组成，家庭医生担任指导医生。 // 活动内容包括用药指导、饮食运动和自我监测。
PT-WJ|培训课程|安全应急/应急演练|社区急救技能培训（心肺复苏与AED）|急救、AED、心肺复苏||急救中心培训师教授心肺复苏、AED使用和海姆立克急救法，合格者获得培训证书。|每次培训配备模拟人和AED训练机，人人上手练习。 // 适合社区工作者、楼组长、志愿者和物业人员。
PT-WJ|专家|民生服务/医疗健康|全科医生健康讲座专家库|健康讲座、专家||从区内全科医生和专科医生中选派专家，按社区点单主题开设健康讲座。|可选主题：老年人防跌倒、合理用药、夏季防暑、冬季呼吸道疾病预防等。 // 讲座课件由医生准备，社区只需组织居民。
PT-CF-WSFW|服务项目|民生服务/医疗健康|长风社区卫生服务中心健康小屋巡诊|巡诊、健康小屋||长风社区卫生服务中心医生每周到社区健康小屋坐诊，提供血压血糖测量、健康咨询和配药预约。|坐诊时间固定，社区张贴时间表即可。 // 需要上门的行动不便老人，由家庭医生另行预约。
PT-CY-WSFW|服务项目|民生服务/养老服务|曹杨社区老年人免费体检预约|体检、老年人|老城区|为六十五岁以上老人集中预约免费体检，社区负责通知，中心负责登记和体检。|体检项目包括血常规、肝肾功能、心电图和腹部B超。 // 体检结果由中心直接告知本人，不需社区转交。
PT-MZ|培训课程|基层治理/社区议事|居民议事会主持技巧培训|议事会、协商、主持||面向居委会书记和社工，讲授居民议事会的议题收集、会议主持和共识形成方法。|采用情景模拟：学员轮流主持一次加装电梯议题的议事会。 // 提供议事规则模板和会议记录模板，可直接使用。
PT-MZ|服务项目|民生服务/养老服务|社区助餐点运营指导|助餐、养老||民政局养老服务专员上门指导社区助餐点的选址、运营、食品安全和补贴申领。|帮助社区测算用餐人数和运营成本。 // 补贴申领材料由专员协助准备，减少社区填表。
PT-MZ|赋能项目|能力提升/社工培训|社区工作者能力提升计划|社工、能力提升||为期三个月的社区工作者能力提升项目，涵盖群众工作方法、政策解读和个案服务。|每月集中授课一次，其余时间由督导老师到社区跟岗指导。 // 结业后颁发结业证书，计入继续教育学时。
PT-MZ|服务项目|民生服务/养老服务|困难老人居家适老化改造评估|适老化改造、评估|老城区|评估员上门评估困难老人居家环境，提出扶手、防滑地面、坐式淋浴等适老化改造方案。|评估和申请材料由评估员完成，社区只需提供老人名单。 // 符合条件的可申请政府补贴。
PT-MZ|资料|基层治理/社区议事|居委会换届选举工作手册|换届选举、工作手册||提供居委会换届选举全流程工作手册、表格模板和常见问题解答。|手册按选举时间线编排，每一步都有可直接使用的模板。 // 电子版可直接下载，纸质版按社区数量提供。
PT-MZ|专家|民生服务/养老服务|养老顾问驻点咨询|养老顾问、咨询||养老顾问定期到社区驻点，解答长护险、养老机构入住、居家养老服务等问题。|每月驻点一次，每次半天。 // 复杂个案由养老顾问跟进办理。
PT-CF-SWZX|服务项目|民生服务/助残服务|长风社区事务代办上门服务|代办、上门服务||为行动不便的老人和残疾人上门代办社保卡、医保、居住证等社区事务。|社区提出需求，受理中心派工作人员带设备上门办理。 // 办理进度由受理中心直接告知居民。
PT-CF-SWZX|场地|文化体育/文化活动|长风街道社区活动中心多功能厅|多功能厅、场地共享||长风街道社区活动中心多功能厅可容纳一百二十人，配备音响、投影和舞台，供社区开展活动。|提前预约即可使用，工作日和周末均可。 // 中心提供一名场地管理员协助布场。
PT-GQ-SWZX|场地|文化体育/文化活动|甘泉街道社区活动中心多功能厅|多功能厅、场地共享||甘泉路街道社区活动中心多功能厅可容纳八十人，适合讲座、培训和文艺排练。|配有投影、音响和六十把折叠椅。 // 可同时借用相邻的小会议室作分组讨论。
PT-CZ-SWZX|场地|文化体育/全民健身|长征镇市民健身中心羽毛球馆|健身、羽毛球||长征镇市民健身中心羽毛球馆工作日白天向社区团队免费开放。|共六片场地，社区团队可整片预约。 // 器材可现场借用。
PT-TP-SWZX|服务项目|民生服务/就业帮扶|桃浦镇就业岗位推送进村居|就业、岗位推送|村改居、农村|每月把镇域内企业的招聘岗位整理成清单，送到村居并组织小型招聘会。|岗位清单按年龄和技能分类，便于居民查找。 // 小型招聘会由受理中心联系企业到场。
PT-RS|服务项目|民生服务/就业帮扶|社区就业援助专场招聘会|招聘会、就业||人社局联系辖区企业到社区举办专场招聘会，重点帮助大龄失业人员和困难家庭就业。|社区提供场地和求职人员名单，企业由人社局邀请。 // 现场提供简历指导和政策咨询。
PT-RS|培训课程|民生服务/就业帮扶|家政服务员职业技能培训|家政、技能培训||为有就业意愿的居民开设家政服务员培训，考核合格发放职业技能等级证书。|课程包括家庭保洁、老人照护和母婴护理基础。 // 符合条件的学员可享受培训补贴。
PT-RS|专家|民生服务/就业帮扶|劳动争议调解员驻点|劳动争议、调解||劳动争议调解员到社区驻点，解答工资拖欠、劳动合同、工伤认定等问题。|每月驻点一次，可预约个案咨询。 // 需要立案的由调解员指导办理。
PT-RS|资料|民生服务/就业帮扶|社保政策一本通|社保、政策汇编||汇编养老、医疗、失业、工伤保险的常用政策和办事流程，供社区工作人员答复居民。|每年更新一次，标注当年新政策。 // 提供电子版和少量纸质版。
PT-SF|专家|基层治理/法律服务|法律顾问驻点|法律顾问、一村居一顾问||律师定期到社区驻点，为居民提供法律咨询，为居委会审核协议和处理涉法事务。|每月驻点不少于两次，时间由社区和律师商定。 // 居委会合同、公约等可随时发给律师审核。
PT-SF|培训课程|基层治理/矛盾调解|人民调解员业务培训|人民调解、培训||面向社区人民调解员，讲授调解技巧、调解协议书制作和常见纠纷的法律依据。|以真实案例为素材，分组模拟调解。 // 提供调解文书模板。
PT-SF|服务项目|基层治理/法律服务|民法典进社区巡回讲座|民法典、普法||律师和司法所工作人员到社区讲解民法典中婚姻家庭、继承和物业相关规定。|可从婚姻家庭、遗嘱继承、相邻关系、物业服务四个专题中选择。 // 讲座后现场答疑。
PT-SF|服务项目|基层治理/法律服务|老年人遗嘱见证与公证咨询|遗嘱、公证、老年人|老城区|公证员到社区为老年人解答遗嘱、意定监护和房产继承问题，可预约上门办理。|咨询免费，办理公证按规定收费。 // 行动不便的老人可预约上门服务。
PT-CG|培训课程|生态环境/垃圾分类|城市管理法规进社区|城管、法规||城管执法人员讲解违法搭建、群租整治、占道经营等居民关心的法规和投诉渠道。|结合本区典型案例讲解。 // 现场解答居民关于违法搭建的疑问。
PT-CG|服务项目|基层治理/物业治理|违法搭建联合排查|违法搭建、排查||城管执法队会同社区和物业对小区违法搭建进行排查，分类提出处置建议。|排查结果由城管执法队录入系统，社区无需另行报送。 // 对新增违法搭建做到发现即处置。
PT-WL|服务项目|文化体育/文化活动|公共文化配送：戏曲进社区|戏曲、文化配送||文旅局配送沪剧、越剧、评弹等专业演出到社区，一场约九十分钟。|演出团队自带音响和服装，社区提供场地即可。 // 可与社区节庆活动结合安排。
PT-WL|培训课程|文化体育/文化活动|社区文艺团队指导|文艺团队、排练||专业老师到社区指导合唱、舞蹈、沪剧等文艺团队排练，提升演出水平。|每期八次课，每周一次。 // 结业时可参加区里的社区文艺展演。
PT-WL|资料|文化体育/阅读推广|社区图书流转箱|图书、阅读||区图书馆每季度向社区配送一箱约两百册图书，到期轮换。|书目兼顾老人、儿童和上班族。 // 借阅登记可用图书馆小程序，社区不必手工记账。
PT-WL|场地|文化体育/文化活动|区文化馆排练厅借用|排练厅、场地共享||区文化馆排练厅向社区文艺团队开放，适合合唱、舞蹈排练和小型汇演。|排练厅面积一百五十平方米，配有镜墙、把杆和钢琴。 // 每次借用不超过三小时。
PT-JW|服务项目|基层治理/物业治理|既有多层住宅加装电梯咨询|加装电梯、咨询|老城区|建管委工作人员到社区解答加装电梯的政策、流程、补贴和意见征询方法。|提供加装电梯全流程指引和意见征询表模板。 // 对已启动的项目提供一对一跟进。
PT-JW|专家|基层治理/物业治理|老旧小区改造规划师驻点|社区规划师、旧改|老城区|社区规划师在老旧小区综合改造期间驻点，听取居民意见并向设计单位反馈。|每周驻点半天，收集的意见整理后在社区公示。 // 规划师负责向设计单位反馈，社区不必另写报告。
PT-FG|培训课程|基层治理/物业治理|业委会组建与运作培训|业委会、物业||讲解业主大会和业委会的组建流程、议事规则和维修资金使用。|提供业主大会会议文件模板。 // 结合本区典型案例讲解业委会常见问题。
PT-FG|服务项目|基层治理/物业治理|物业服务纠纷联合调处|物业纠纷、调处||房管局会同街道和社区，调处物业费、停车、公共收益等物业服务纠纷。|由房管局牵头约谈物业企业。 // 调处结论书面告知社区和业委会。
PT-FG|资料|基层治理/物业治理|住宅小区管理规约示范文本|管理规约、示范文本||提供住宅小区管理规约、业主大会议事规则等示范文本，供社区指导业委会使用。|示范文本附有填写说明。 // 可直接下载修改使用。
PT-SCJG|培训课程|安全应急/食品安全|社区食品安全知识讲座|食品安全、讲座||讲解家庭食品储存、过期食品识别和保健品虚假宣传辨别。|结合近期抽检结果讲解。 // 现场发放食品安全宣传资料。
PT-SCJG|服务项目|安全应急/食品安全|社区助餐点食品安全检查指导|助餐点、食品安全||市场监管所上门检查社区助餐点的食品安全，指导整改。|检查以指导为主，当场告知整改要点。 // 检查记录由市场监管所留存，社区无需另报。
PT-STHJ|培训课程|生态环境/垃圾分类|垃圾分类实操培训|垃圾分类、实操||讲解四分类标准，现场演示易混垃圾分拣，帮助社区提升分类实效。|配套提供分类投放指引海报。 // 可安排在社区志愿者例会时进行。
PT-STHJ|赋能项目|生态环境/绿化美化|社区微花园共建|微花园、共建||生态环境局提供设计指导、花苗和工具，和居民一起把社区边角地改造成微花园。|项目周期约两个月，包括方案设计、居民共建和后期养护培训。 // 社区负责动员居民参与。
PT-LHSR|服务项目|生态环境/绿化美化|小区树木修剪预约|树木修剪、绿化||绿化市容局对小区内影响采光、危及安全的树木安排专业修剪。|社区汇总居民诉求后一次性预约。 // 修剪完成后清运枝叶。
PT-LHSR|设备|生态环境/垃圾分类|社区大件垃圾清运车预约|大件垃圾、清运||预约大件垃圾清运车到社区集中清运旧家具、家电等大件垃圾。|每次清运前一天通知居民集中摆放。 // 清运车辆和人员由绿化市容局安排。
PT-JY|赋能项目|民生服务/托育服务|社区暑期少儿托管班|暑托班、少儿||教育局联合团区委在社区开设暑期少儿托管班，提供看护、作业辅导和兴趣课程。|每期四周，由教师和大学生志愿者授课。 // 社区提供场地并协助报名。
PT-JY|培训课程|民生服务/托育服务|家庭教育指导讲座|家庭教育、亲子||家庭教育指导师讲解亲子沟通、青春期教育和学习习惯养成。|可按幼儿、小学、初中三个学段选择主题。 // 讲座后现场答疑。
PT-TYJR|服务项目|民生服务/养老服务|退役军人服务站规范化建设指导|退役军人、服务站||退役军人事务局指导社区退役军人服务站的阵地建设、信息采集和走访慰问。|提供统一的服务站标识和工作流程。 // 信息采集使用局里系统，社区不必另建台账。
PT-CL|服务项目|民生服务/助残服务|残疾人辅具适配上门评估|辅具、适配||残联康复专员上门评估残疾人的辅具需求，协助申请轮椅、助行器等辅具。|评估和申请一次完成。 // 辅具由残联配送到家。
PT-CL|设备|民生服务/助残服务|助残辅具短期借用|辅具借用、轮椅||向社区出借轮椅、助行器、坐便椅等辅具，供术后康复或短期行动不便的居民使用。|借用期一般不超过三个月。 // 由残联配送和回收。
PT-FL|培训课程|民生服务/托育服务|社区妇女儿童维权知识讲座|妇女维权、反家暴||讲解反家庭暴力法、妇女权益保障法和求助渠道。|由妇联执委和律师主讲。 // 需要个案帮助的由妇联跟进。
PT-TQW|赋能项目|能力提升/党建引领|青年志愿者结对社区|青年志愿者、结对||团区委组织青年志愿者与社区结对，开展助老、助学和环保志愿服务。|每个社区结对一支青年志愿者队伍。 // 志愿服务时长由团区委统一记录。
PT-ZGH|服务项目|民生服务/就业帮扶|职工法律援助进社区|职工维权、法律援助||总工会法律援助律师到社区为职工提供劳动权益法律咨询。|每季度一次，可预约个案。 // 符合条件的提供免费法律援助。
PT-YB|培训课程|民生服务/医疗健康|医保政策宣讲与长护险申请指导|医保、长护险||讲解医保报销、门诊大病和长期护理保险的申请条件与流程。|现场指导居民使用随申办查询医保信息。 // 长护险评估可现场预约。
PT-SJJ|培训课程|基层治理/数字化工具|社区治理数字化工具使用培训|数字化、一网统管||讲解社区治理数字化平台的使用，帮助社区减少重复填报和纸质台账。|手把手演示数据一次采集、多处共用的功能。 // 培训后提供操作手册和在线答疑群。
PT-SJJ|资料|能力提升/台账减负|社区台账精简操作指南|台账减负、操作指南||整理已取消和合并的社区台账清单，说明哪些数据可直接从平台调取，不再要求社区填报。|逐项列出可取消的台账和替代的数据来源。 // 每半年更新一次。
PT-SJJ|专家|基层治理/数字化工具|数字化专员驻点辅导|数字化专员、辅导||数字化专员到社区驻点，帮助社区工作者解决平台使用中的问题。|每月驻点一次，每次半天。 // 遇到系统问题由专员直接反馈开发团队。
PT-SWJ|培训课程|民生服务/就业帮扶|个人所得税汇算清缴辅导|个税、汇算||税务干部到社区讲解个税汇算清缴，现场指导居民使用个人所得税App。|每年汇算期集中开展。 // 现场一对一帮助老年人办理。
PT-XFB|培训课程|基层治理/矛盾调解|信访工作规范与群众沟通技巧|信访、群众沟通||讲解信访事项受理流程和与群众沟通的方法，帮助社区把矛盾化解在基层。|以情景模拟方式进行。 // 提供信访事项登记简表模板。
"""

KIND_WORDS_BY_TEXT = {
    "培训课程": OfferingKind.TRAINING,
    "服务项目": OfferingKind.SERVICE,
    "赋能项目": OfferingKind.PROJECT,
    "场地": OfferingKind.VENUE,
    "设备": OfferingKind.EQUIPMENT,
    "专家": OfferingKind.EXPERT,
    "资料": OfferingKind.MATERIAL,
}
CONTACTS = [
    "王芳",
    "李军",
    "张伟",
    "刘燕",
    "陈刚",
    "杨丽",
    "赵磊",
    "黄敏",
    "周强",
    "吴婷",
]
PLACES = ["社区活动室", "居委会会议室", "街道社区活动中心多功能厅", "社区党群服务站"]
START_HOURS = (9, 14, 19)


def _sessions(title: str, first_day: date) -> str:
    """One to three sessions in the weeks after ``first_day``."""
    cells = []
    day = first_day + timedelta(days=spread(title, "first", 3, 12))
    for number in range(spread(title, "count", 1, 3)):
        hour = START_HOURS[spread(title, f"hour{number}", 0, 2)]
        hours = spread(title, "hours", 1, 3)
        place = PLACES[spread(title, f"place{number}", 0, len(PLACES) - 1)]
        seats = spread(title, f"seats{number}", 2, 12) * 5
        cells.append(
            f"{day:%Y-%m-%d} {hour:02d}:00-{hour + hours:02d}:00@{place}#{seats}"
        )
        day += timedelta(days=spread(title, f"gap{number}", 5, 14))
    return "；".join(cells)


DISTRICT_DEPARTMENTS = {
    code for code, _name, _family, region in DEPARTMENT_ROWS if region == DISTRICT_CODE
}


def _streets(code: str, title: str) -> str:
    """Some district departments offer a few streets only; the rest, and every
    street's own department, serve their whole area."""
    if code not in DISTRICT_DEPARTMENTS or spread(title, "area", 0, 5):
        return ""
    first = spread(title, "street", 0, len(STREETS) - 1)
    chosen = (STREETS[first], STREETS[(first + 3) % len(STREETS)])
    return "、".join(street_code for street_code, _name, _communities in chosen)


def demo_offering_rows(first_day: date) -> list[dict[str, str]]:
    """The demo offerings as rows of the import file, keyed by field name."""
    rows = []
    for line in OFFERINGS.strip().splitlines():
        code, kind_text, category, title, tags, types, summary, body = line.split("|")
        kind = KIND_WORDS_BY_TEXT[kind_text]
        shared = kind in SHARED_RESOURCE_KINDS
        on_request = shared or spread(title, "on_request", 0, 4) == 0
        if kind == OfferingKind.VENUE:
            mode = DeliveryMode.AT_DEPARTMENT
        elif kind == OfferingKind.MATERIAL or spread(title, "online", 0, 6) == 0:
            mode = DeliveryMode.ONLINE
        else:
            mode = DeliveryMode.AT_COMMUNITY
        low = spread(title, "min", 1, 4) * 5
        rows.append(
            {
                "department_code": code,
                "title": title,
                "kind": kind_text,
                "category": category,
                "tags": tags,
                "summary": summary,
                "body": "\n".join(body.split(" // ")),
                "community_types": types,
                "streets": _streets(code, title),
                "delivery_mode": DELIVERY_MODE_WORDS[mode][0],
                "duration_hours": "" if shared else str(spread(title, "hours", 1, 3)),
                "lead_time_days": str(spread(title, "lead", 3, 14)),
                "min_participants": "" if shared else str(low),
                "max_participants": ""
                if shared
                else str(low + spread(title, "max", 2, 10) * 5),
                "fee": "免费",
                "contact_name": CONTACTS[spread(title, "contact", 0, 9)],
                "contact_phone": f"021-5256{spread(title, 'phone', 0, 9999):04d}",
                "availability": AVAILABILITY_WORDS[
                    Availability.ON_REQUEST if on_request else Availability.SCHEDULED
                ][0],
                "monthly_capacity": str(spread(title, "capacity", 2, 8))
                if on_request
                else "",
                "sessions": "" if on_request else _sessions(title, first_day),
            }
        )
    return rows


def write_workbook(rows: list[dict[str, Any]], path: Path) -> None:
    """One sheet with the importer's Chinese headers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("服务项目")
    sheet.append([aliases[0] for aliases in COLUMNS.values()])
    for row in rows:
        sheet.append([row.get(name, "") for name in COLUMNS])
    workbook.save(path)


@dataclass(frozen=True)
class DemoCollection:
    slug: str
    title: str
    introduction: str
    categories: tuple[str, ...]
    query: str = ""


# Each matches several demo offerings; the intros read as the organization
# department would write them.
DEMO_COLLECTIONS = (
    DemoCollection(
        slug="flood-season-2026",
        title="2026 防汛防台专题",
        introduction=(
            "<p>2026 年汛期将至。本专题汇集应急管理局、消防救援支队、卫健委等部门"
            "可以送进社区的防汛防台培训、应急演练指导、防汛专家驻点和应急物资借用，"
            "帮助居村委会在入汛前修订应急预案、排查低洼积水点、组织一次实战演练。</p>"
            "<p>建议在 5 月底前点单，便于各部门在入汛前排期上门。</p>"
        ),
        categories=("防汛防台", "应急演练"),
    ),
    DemoCollection(
        slug="anti-fraud",
        title="反诈宣传专题",
        introduction=(
            "<p>电信网络诈骗手法不断翻新，老年人和新入住居民最容易受骗。本专题收录"
            "公安分局和各派出所可以送进社区的反诈讲座、楼组宣传和反诈小课堂，"
            "宣传品由公安部门提供，社区只需组织居民参加。</p>"
        ),
        categories=("反诈宣传",),
    ),
    DemoCollection(
        slug="elderly-care",
        title="为老服务专题",
        introduction=(
            "<p>围绕独居、高龄和困难老人的日常所需，本专题汇集安全守护走访、免费体检、"
            "适老化改造评估和上门代办等服务，由部门派人上门，材料由部门承担，"
            "社区不需另建台账。</p>"
        ),
        categories=("养老服务", "医疗健康", "助残服务"),
        query="老人",
    ),
)


def demo_collections_publish() -> int:
    """Publish the demo collections that are missing under the collections'
    page; return how many were made."""
    topics = collection_index_page()
    existing = set(
        CatalogCollectionPage.objects.child_of(topics).values_list("slug", flat=True)
    )
    made = 0
    for demo in DEMO_COLLECTIONS:
        if demo.slug in existing:
            continue
        page = CatalogCollectionPage(
            title=demo.title,
            slug=demo.slug,
            introduction=demo.introduction,
            query=demo.query,
        )
        topics.add_child(instance=page)
        page.categories.set(
            Category.objects.filter(parent__isnull=False, name__in=demo.categories)
        )
        page.save_revision().publish()
        made += 1
    return made


class Command(BaseCommand):
    help = (
        "Load about seventy published demo offerings of the demo district's "
        "departments through the offerings import, and publish three collections "
        "of them. Run seed_demo first. Safe to repeat: offerings and collections "
        "that exist already are left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo_offering_rows(timezone.localdate())
        pages = dict(
            DepartmentPage.objects.filter(
                department__code__in={row["department_code"] for row in rows}
            ).values_list("department__code", "path")
        )
        if not pages:
            raise CommandError(
                _("The demo departments are missing; run seed_demo first.")
            )
        # An offering page's path is its department page's path plus one step.
        existing = {
            (path[: -OfferingPage.steplen], title)
            for path, title in OfferingPage.objects.values_list("path", "title")
        }
        missing = [
            row
            for row in rows
            if row["department_code"] in pages
            and (pages[row["department_code"]], row["title"]) not in existing
        ]
        if missing:
            self._offerings_import(missing)
        else:
            self.stdout.write(_("The demo offerings are already loaded."))
        made = demo_collections_publish()
        self.stdout.write(
            _("%(count)s demo collections published.") % {"count": made}
            if made
            else _("The demo collections are already published.")
        )

    def _offerings_import(self, missing: list[dict[str, str]]) -> None:
        with tempfile.TemporaryDirectory(prefix="seed_catalog_demo-") as folder:
            path = Path(folder) / "seed_catalog_demo.xlsx"
            write_workbook(missing, path)
            try:
                report = import_offerings_file(path, dry_run=False, publish=True)
            except ImportFileError as error:
                raise CommandError(str(error)) from error
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                _("%(count)s errors; nothing was imported.")
                % {"count": report.error_count}
            )
