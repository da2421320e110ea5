import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { foldLeet, joinHan, type RevealedWord } from './deobfuscate.ts';
import { ZH_INSULT_PATTERN } from './insults-zh.ts';

/**
 * The transparent rule layer beside the moderation model: phrases and patterns, each with the label it raises.
 * No public data labels threats or self-harm incitement, so a model trained here cannot be relied on for them;
 * these rules can be, and admins can read every one (`/steward rules list`), add their own, and switch built-in
 * ones off. Rules match the normalised text (see deobfuscate), so "k y s" and "k.y.s" match "kys".
 */
export const RuleSchema = z.object({
  /** Built-in ids start with "builtin:"; a workspace's own get "r1", "r2"… */
  id: z.string().min(1).max(40),
  label: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
  /**
   * phrase: whole words, case-insensitive; pattern: a JavaScript regular expression, case-insensitive;
   * obfuscated (built-in only): a word of the obfuscation lexicon written to dodge a filter (see revealedWords).
   */
  kind: z.enum(['phrase', 'pattern', 'obfuscated']),
  value: z.string().min(1).max(200),
});
export type Rule = z.infer<typeof RuleSchema>;

/**
 * The label of an allow rule: the *model* labels whose driving words all lie inside what it matched are not raised
 * (the phrase is one the workspace knows to be fine, e.g. "在群里骂人会怎么样" asks about the rules; see analyse), so
 * an insult written beside it still is; flags from the other rules still apply. On Discord,
 * `rules sync` puts allow phrases in the AutoMod rule's allow list.
 */
export const ALLOW_LABEL = 'allow';

/** One rule that matched a message, and the words it matched. */
export interface RuleHit {
  id: string;
  label: string;
  match: string;
  /** The reason shown to moderators, when it is more than “rule “match”” (moderation in context). */
  why?: string;
}

const YOU = '(?:you|u|ya|yu)';
const YOURSELF = String.raw`(?:yourself|urself|your\s+self|yoself|ur\s+self)`;
const APOS = "(?:'|’)?";
const WILL = String.raw`(?:i\s*${APOS}\s*ll|i\s+will|i\s*${APOS}\s*m\s+(?:going\s+to|gonna)|i\s+am\s+(?:going\s+to|gonna)|im\s+(?:going\s+to|gonna)|gonna|we\s*${APOS}\s*ll|we\s+will|we\s*${APOS}\s*re\s+(?:going\s+to|gonna)|i\s+swear\s+i\s*${APOS}\s*ll|i\s+swear\s+i\s+will)`;
/** Verbs of violence done to someone. */
const HARM = String.raw`(?:kill|hurt|stab|shoot|murder|strangle|choke|beat(?=\s+\S+\s+(?:up|to\s+death|senseless|to\s+a\s+pulp|black\s+and\s+blue))|bash|smash|kick|punch|cut|burn|rape|torture|slaughter|butcher|stomp|end|harm|skin|gut)`;
/** Who a threat is aimed at: you, or the people and things that are yours. */
const KIN =
  '(?:family|kids?|children|wife|husband|mom|mum|mother|dad|father|sister|brother|daughter|son|parents|friends|dog|cat|house|home|car)';
const BODY = '(?:face|head|skull|jaw|teeth|legs?|arms?|neck|throat|ribs|nose|knees?|fingers|spine|brains?)';
const TARGET = String.raw`(?:${YOU}|your\s+(?:\w+\s+)?${KIN}|ur\s+${KIN})`;
/** Objects that turn "I'll shoot you …" into something friendly: a message, a slice, a game. */
const FRIENDLY = String.raw`(?!\s+(?:a|an|some|at|in|on|up\s+later|back|over|to\s+it)\b)`;
/** "don't", "never"… right before a self-harm phrase: support ("please don't kill yourself"), not incitement. */
const NOT = String.raw`(?<!\b(?:don${APOS}t|dont|do\s+not|never|not|won${APOS}t|wouldn${APOS}t|shouldn${APOS}t|stop\s+me\s+from|thinking\s+(?:of|about)|want\s+to|wanted\s+to)\s+(?:(?:ever|even|just|go|try\s+to|ever\s+try\s+to)\s+)?)`;

/** What turns a "sick" back into an insult or a complaint: "sick of", "sick in the head", "sick bastard". */
const NOT_SICK_OF = String.raw`(?!\s+(?:of|and\s+tired|in\s+the\s+head|bastards?|fucks?|freaks?|puppy|puppies|perverts?|person|people|individuals?|twisted|minded|joke|man|woman|guy|dude)\b)`;

/** Chinese: "not", "won't", "don't" right before a verb of harm ("我不会杀了你", "别去死"): not a threat or incitement. */
const ZH_NOT = '(?<!不|不会|不要|不想|不能|不敢|别|没|没有|怎么会|舍不得)';
/** Who threatens: I, we, "老子" (a belligerent "I"). */
const ZH_ME = '(?:我|我们|老子|爷|俺)';
/** What may stand between the threatener and the verb: will, soon, today, "call a few brothers to". */
const ZH_INTENT =
  '(?:要|会|一定|必须|迟早|早晚|非|非要|就|就要|马上|现在就|今天|今晚|明天|回头|这就|得|保证|发誓|肯定|也|先|去|来|找人|叫人|找几个人|叫(?:上)?几个(?:兄弟|人)|带人|亲自|一刀|一枪|一拳|几刀|要去|会去|一定要|一定会|(?:拿|用|带)(?:着)?(?:刀|枪|棍子|砖头|斧头)){0,4}';
/** Verbs of harm that are threats whoever says them ("宰了你"); the weaker ones below need a speaker. */
const ZH_KILL =
  '(?:杀了|杀死|弄死|打死|砍死|捅死|掐死|整死|搞死|揍死|砸死|勒死|毒死|烧死|撞死|干掉|做掉|宰了|灭了|废了|砍了|崩了|剁了|埋了|活埋|打残|弄残)';
const ZH_HARM = `(?:${ZH_KILL}|杀|宰|灭|废|砍|捅|揍|打|抽|收拾|办|弄|崩|剁|堵|教训|干)`;
/** Parts of you a threat names: "打断你的狗腿", "把你的头打爆". */
const ZH_BODY = '(?:狗)?(?:腿|手|胳膊|脖子|头|脑袋|牙|手指|脸|眼睛|舌头|骨头)';

/**
 * Built-in rules: threats of violence and incitement to self-harm, English and Chinese, and Chinese insults. Tested
 * against benign look-alikes ("kill the process", "I'll shoot you a message", "笑死我了", "please don't kill
 * yourself", "垃圾分类", "牛逼").
 */
export const BUILTIN_RULES: readonly Rule[] = Object.freeze([
  {
    id: 'builtin:threat-will-harm',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`(?<!\b(?:not|never)\s+)\b${WILL}\s+(?:(?!never\b|not\b)\w+\s+)?${HARM}\s+${TARGET}\b${FRIENDLY}`,
  },
  {
    id: 'builtin:threat-body-harm',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:break|smash|kick|bash|rip|knock|cave|punch|slit|cut|snap|crack|blow)\s+(?:your|ur)\s+(?:\w+\s+)?${BODY}\s*(?:in|off|out|open)?\b`,
  },
  {
    id: 'builtin:threat-where-you-live',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:find|know|found|find\s+out|found\s+out)\s+where\s+(?:${YOU}|your\s+${KIN})\s+(?:live|lives|go|goes|work|works|sleep|sleeps)\b`,
  },
  {
    id: 'builtin:threat-you-are-dead',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${YOU}\s*${APOS}\s*(?:re|r|are)\s+(?:so\s+)?(?:dead|going\s+to\s+die|gonna\s+die|a\s+dead\s+(?:man|woman|boy|girl)|dead\s+meat)\b(?!\s+(?:to\s+me|to\s+us|inside|tired|wrong|serious|right))`,
  },
  { id: 'builtin:threat-watch-your-back', label: 'threat', kind: 'phrase', value: 'watch your back' },
  { id: 'builtin:threat-one-eye-open', label: 'threat', kind: 'phrase', value: 'sleep with one eye open' },
  {
    id: 'builtin:threat-next-time-i-see-you',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:${HARM}|get)\s+${YOU}\s+(?:next\s+time|when)\s+i\s+see\s+${YOU}`,
  },
  {
    id: 'builtin:threat-find-and-harm',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:find|catch|get|track)\s+${YOU}\s+(?:down\s+)?(?:and|&|n)\s+(?:\w+\s+)?${HARM}\s+${YOU}\b`,
  },
  {
    id: 'builtin:threat-hunt-you-down',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:hunt|track)\s+${YOU}\s+down\b|\b${WILL}\s+find\s+${YOU}\s*[.!]*$`,
  },
  {
    id: 'builtin:threat-coming-for-you',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:i\s*${APOS}\s*m|i\s+am|im|we\s*${APOS}\s*re|we\s+are)\s+coming\s+for\s+${TARGET}\b(?!\s+(?:at|to\s+pick|with\s+(?:the|a)\s+car))`,
  },
  {
    id: 'builtin:threat-wont-live',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${YOU}\s+(?:won${APOS}t|wont|will\s+not)\s+(?:live\s+(?:to\s+see|past|through|much\s+longer)|wake\s+up\s+tomorrow|see\s+tomorrow)|\bmake\s+sure\s+${YOU}\s+(?:never|don${APOS}t)\s+(?:walk|wake\s+up|breathe|see)\b|\bpay\s+(?:for\s+(?:this|that|it)\s+)?with\s+your\s+life\b`,
  },
  {
    id: 'builtin:threat-weapon',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\bbullet\s+(?:in|through|between)\s+your\b|\bput\s+${YOU}\s+in\s+(?:the\s+|a\s+)?(?:hospital|ground|grave|coffin|body\s+bag|wheelchair|morgue)\b|\bbring(?:ing)?\s+(?:a|my)\s+(?:gun|knife|rifle|weapon|glock)\s+(?:to\s+(?:school|work|class|the\s+office)|tomorrow|for\s+${YOU})`,
  },
  {
    id: 'builtin:threat-someone-should',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b(?:someone|somebody|some1|they|people)\s+(?:should|needs?\s+to|ought\s+to|oughta|gotta)\s+${HARM}\s+${YOU}\b${FRIENDLY}|\bhope\s+${YOU}\s+(?:get\s+(?:shot|stabbed|killed|murdered|raped|run\s+over)|die|burn|rot|choke)\b(?!\s+(?:laughing|of\s+laughter))`,
  },
  {
    id: 'builtin:threat-your-family',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\byour\s+${KIN}\s+(?:is|are|will|${APOS}s|s)\s+(?:going\s+to\s+|gonna\s+)?(?:get\s+|be\s+)?(?:hurt|killed|die|pay|suffer)\b|\b(?:keep\s+talking|try\s+me|say\s+that\s+again|do\s+that\s+again)\b[^.!?]{0,40}\bsee\s+what\s+happens\b`,
  },
  {
    id: 'builtin:threat-bomb-shoot-up',
    label: 'threat',
    kind: 'pattern',
    value: String.raw`\b${WILL}\s+(?:bomb|shoot\s+up|blow\s+up|shoot)\s+(?:the|your|this|that|our)\s+(?:\w+\s+)?(?:school|office|church|mosque|synagogue|temple|mall|building|house|car|place|club|party|concert|stadium|station|airport|event|class)(?:\s+up)?\b`,
  },
  {
    id: 'builtin:threat-zh-kill',
    label: 'threat',
    kind: 'pattern',
    value: `${ZH_NOT}${ZH_KILL}你(?!们?都不信|也不信)|${ZH_ME}${ZH_INTENT}${ZH_NOT}${ZH_HARM}(?:了|死)?你(?!们?都不信|也不信|的|电话|手机|个电话|微信|视频|语音|一下|[哦喔噢呀哟])`,
  },
  {
    id: 'builtin:threat-zh-body',
    label: 'threat',
    kind: 'pattern',
    value: `${ZH_NOT}(?:打断|打折|拧断|掰断|剁了?|砍了?|卸了?|废了?|打爆|拧下|敲碎|打烂)你的?(?:[一二三两]条|[一两]只)?${ZH_BODY}|把你的?${ZH_BODY}(?:给)?(?:打断|打折|拧断|拧下来|剁下来|砍下来|打爆|卸下来|敲碎|打烂)`,
  },
  {
    id: 'builtin:threat-zh-suffer',
    label: 'threat',
    kind: 'pattern',
    value: `${ZH_NOT}(?:让|叫)你(?:全家)?(?:生不如死|横着出去|躺着出去|死无葬身之地|不得好死|见不到明天的太阳|吃不了兜着走|付出(?:血的)?代价|血债血偿|后悔(?:来到这个世界|生下来|出生|一辈子|终生)|永远闭嘴|断子绝孙|死得(?:很)?(?:难看|很惨|不明不白)|横尸街头|有来无回|知道(?:什么叫)?(?:后悔|厉害|我的厉害|死字怎么写)|(?:从这个世界上)?(?:永远)?消失|人间蒸发|(?:活着)?回不来|(?:在医院)?躺(?:在)?(?:医院|ICU)|(?:在医院)?躺(?:个)?(?:半年|一年|几个月|一辈子))`,
  },
  {
    id: 'builtin:threat-zh-done',
    label: 'threat',
    kind: 'pattern',
    value:
      '你(?:是)?活腻(?:了|歪了)|你(?:就|可就)完(?:了|蛋了)(?![没吗吧呢])|你完蛋了|(?:饶不了|不会放过|绝不(?:会)?放过|决不放过)你|(?:就是|是)你的死期|你的死期(?:到了|不远了)|要(?:了)?你(?:的)?(?:狗)?命|你(?:这条)?(?:狗)?命我(?:收下|要)了|别逼我(?:动手|出手|杀人|动刀)|(?:弄|搞|整)不死你(?!的)|保证你(?:活着)?回不来|你给我记住(?=[，,！!。\\s]|$)|走着瞧|有你好果子吃|有你好看|要你好看|让你好看(?![多点些])|碎尸万段|(?:扒|剥)了?你的皮|抽你的筋|你(?:就)?等死吧|看我(?:怎么|不)(?:收拾|弄死|弄|整|揍|打|教训|干)(?:死)?你|(?:等着|准备)被我(?:打|揍|砍|弄死|收拾|教训)|你的(?:小命|狗命)(?:在我手里|捏在我手里|是我的)|顺着网线(?:过去|过来|爬过去)?(?:砍|打|揍|杀|弄死|捅)你|(?:睡觉(?:最好|的时候)?)睁(?:着)?一只眼(?!闭)|睁(?:着)?一只眼睡觉|你(?:就)?别想(?:活着)?(?:回来|回去|离开)|(?:叫|让)你(?:的)?家(?:里)?人(?:给你)?准备(?:好)?后事|给你收尸|给你准备(?:好)?棺材|(?:带|拿|买好|准备好|磨好)(?:了)?(?:着|上|好)?(?:刀|枪|砍刀|斧头|家伙|棍子)(?:了)?[^。！!?？]{0,10}等你(?!吃|玩|回)|等你[^。！!?？]{0,10}(?:带|拿)(?:着|上)?(?:刀|枪|砍刀|斧头|家伙)|把你(?:给)?(?:做了|办了|废了|宰了|杀了|弄死|砍死|打死|埋了|灭了|扔(?:进|到)(?:河|江|海)里|沉(?:江|河|海)|大卸八块)|把你打(?:得|的)(?:满地找牙|半身不遂|生活不能自理|(?:你)?(?:妈|爹妈|爸妈)都不认识)|打得你(?:妈|爹妈|爸妈)都不认识|你活不过(?:今晚|今天|明天|这个月|今年)|你给我小心(?:点|些)?|小心你的(?:狗命|小命|脑袋|狗头|狗腿)|见你一次(?:打|揍|砍)你一次|别(?:让我|被我)(?:在\\S{0,6})?(?:碰到|遇到|逮到|抓到|找到)(?:你)?(?=[，,。.!！\\s]|$|不然|否则)',
  },
  {
    id: 'builtin:threat-zh-find',
    label: 'threat',
    kind: 'pattern',
    value:
      '(?:人肉|开盒)(?:到|了)?(?:你|了你)|(?:找到|知道|查到)(?:了)?你(?:家|的住址|家地址|住哪|住在哪|在哪上班)(?:了|在哪)?[，,\\s]*(?:等着|小心|你跑不了)|找你算账|去你(?:家|公司|学校)(?:门口)?(?:堵你|砍你|杀你|弄你|收拾你)',
  },
  {
    id: 'builtin:threat-zh-bomb',
    label: 'threat',
    kind: 'pattern',
    value:
      '(?:炸了|炸掉|炸毁|血洗|屠了)(?:你们|这|那)?(?:个|栋|座|所)?(?:学校|公司|医院|大楼|楼|商场|地铁|车站|机场|教堂|清真寺|寺庙|政府|办公室)',
  },
  {
    id: 'builtin:threat-zh-dead',
    label: 'threat',
    kind: 'pattern',
    value:
      '你(?:就)?死定了|你(?:给我)?等着瞧|你给我等着|(?:全家|一家)(?:死光|都得死|不得好死)|我知道你(?:家)?住(?:在)?哪|我会找到你的?[，,\\s]*(?:等着|小心)|带(?:着)?(?:刀|枪)(?:去|来)(?:找|砍|杀)?你',
  },
  {
    // Plain Chinese personal abuse, which the model (trained on COLD's mostly group-directed lines) passes.
    id: 'builtin:insult-zh',
    label: 'offensive',
    kind: 'pattern',
    value: ZH_INSULT_PATTERN,
  },
  {
    id: 'builtin:obfuscated-word',
    label: 'offensive',
    kind: 'obfuscated',
    value: 'an offensive word written to dodge a filter (leetspeak, masking, spacing, look-alike letters)',
  },
  { id: 'builtin:self-harm-kys', label: 'self_harm', kind: 'pattern', value: String.raw`\bkys\b` },
  {
    id: 'builtin:self-harm-kill-yourself',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`${NOT}\b(?:kill|hang|shoot|off|neck|end|hurt|cut|unalive|drown|stab|burn)\s+${YOURSELF}\b`,
  },
  {
    id: 'builtin:self-harm-jump-off',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:go|just|pls|please|should)\s+(?:go\s+)?jump\s+(?:off|from)\s+(?:a|the)\s+(?:bridge|building|roof|cliff)`,
  },
  {
    id: 'builtin:self-harm-drink-bleach',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`${NOT}\b(?:go\s+)?drink\s+(?:some\s+)?bleach\b`,
  },
  {
    id: 'builtin:self-harm-go-die',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:go|just|pls|please)\s+(?:go\s+)?die\b(?!\s+(?:hard|trying|laughing))|\bdo\s+(?:everyone|us\s+all|us|the\s+world|all\s+of\s+us)\s+a\s+favou?r\s+(?:and\s+)?(?:just\s+)?(?:die|kill|end|jump|hang|drink|off|stop\s+breathing)\b|\bwhy\s+don${APOS}t\s+${YOU}\s+(?:just\s+)?(?:go\s+)?(?:die|kill\s+${YOURSELF})\b`,
  },
  {
    id: 'builtin:self-harm-should-die',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b${YOU}\s+(?:should|deserve\s+to|need\s+to|ought\s+to)\s+(?:just\s+)?(?:die|kill\s+${YOURSELF})\b|\b${YOU}\s+(?:don${APOS}t|dont|do\s+not)\s+deserve\s+to\s+(?:live|exist|breathe)\b`,
  },
  {
    id: 'builtin:self-harm-end-your-life',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`${NOT}\b(?:end|take)\s+(?:your|ur)\s+(?:own\s+)?life\b|\bend\s+it\s+all\b|${NOT}\b(?:slit|cut|slash)\s+(?:your|ur)\s+wrists?\b|\b(?:go|just|pls|please)\s+(?:\w+\s+)?(?:stop\s+breathing|overdose)\b|\boverdose\s+already\b`,
  },
  {
    id: 'builtin:self-harm-nobody-miss',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\b(?:nobody|no\s+one|noone)\s+(?:would|will)\s+(?:miss|care\s+if)\s+${YOU}\b`,
  },
  {
    id: 'builtin:self-harm-world-better',
    label: 'self_harm',
    kind: 'pattern',
    value: String.raw`\bworld\s+(?:would\s+be|is)\s+better\s+(?:off\s+)?without\s+${YOU}\b`,
  },
  {
    id: 'builtin:self-harm-zh',
    label: 'self_harm',
    kind: 'pattern',
    value:
      '(?<!不想|别|不要|不会)去死|(?:自杀|跳楼|上吊|割腕|喝农药|跳河)吧|(?:你|你们|这种人|这样的人)(?:还)?活着(?:干嘛|干什么|有什么用|有啥用|就是浪费)|(?<!我)还活着(?:干嘛|干什么|有什么用|有啥用)|死了算了|(?:怎么|咋)还(?:不|没)死|咋不去死|死一死(?:吧|啊)|你(?:去)?投胎(?:去)?吧|(?:赶紧|快)(?:去)?投胎|(?:怎么|咋)(?:还)?不(?:去)?投胎|早死早超生|活着(?:就是|纯属)?浪费(?:空气|粮食|资源)|(?:吊死|去死|自杀|跳楼|上吊)(?:得了|拉倒)',
  },
  {
    id: 'builtin:self-harm-zh-urge',
    label: 'self_harm',
    kind: 'pattern',
    value: `${ZH_NOT}(?:(?:怎么|咋|为什么|为啥)(?:还)?不|(?<!我|我们|我还是|我们还是)(?:赶紧|赶快|快点?|早点|干脆|直接|最好)|建议你?|劝你|求你(?:快点)?|有种你就)(?:去)?(?:吃药|原地)?(?:自杀|跳楼(?!价)|上吊|割腕|喝农药|跳河|撞墙|卧轨|自尽|去死|去世|服毒|自我了断|了结(?:你)?自己)|(?:(?:从|找个|找栋|找座|去)(?:高楼|悬崖)|(?:从|找个|找栋|找座|去)?(?:楼上|楼顶|天台|桥上))(?:上)?跳下去|(?<!我)(?:就|应该|就应该|就该)(?:自己)?(?:了断|自我了断|去死|自杀)|你去(?:撞车|撞墙|跳楼|跳河|上吊|卧轨|喝农药)|(?<!我)不如(?:去)?死了(?:好|算了)|拿刀(?:割|捅|砍)(?:你)?自己|你[^，,。!！?？]{0,6}(?:该|应该)从(?:地球|这个世界)(?:上)?消失|(?<!我|我们)(?:赶紧|赶快|早点|快点)(?:去)?死(?:了)?(?:吧|啊)?(?![了的掉])|(?:赶紧|快|建议你?)(?:去)?(?:买|吃)(?:瓶|一瓶|一把|点)?(?:安眠药|农药|老鼠药)|(?:为什么|为啥|怎么)不(?:去)?找(?:根|条)绳子|找(?:根|条)绳子(?:吊死|上吊)|你(?:要是|如果)[^，,。.!！?？]{0,12}就(?:去)?(?:自杀|去死|跳楼|上吊)|你(?:真|就|早)?(?:该|应该)(?:去)?死(?![的地心机板])|(?:自我了断|了结(?:你)?自己|结束(?:你)?自己的生命|自尽)(?:吧|啊|算了)`,
  },
  {
    id: 'builtin:self-harm-zh-worthless',
    label: 'self_harm',
    kind: 'pattern',
    value:
      '你(?:就)?不(?:配|该|应该)活(?:着|在|下去)|你(?:怎么|咋)?(?:还)?有(?:什么)?脸活(?:着|下去|到现在)|你死了(?:也)?没(?:有)?人(?:会)?(?:在乎|心疼|难过|哭|管)|(?:世界|地球)(?:上)?(?:少了|没有|没了)你(?:会)?(?:更|才)(?:好|美好|干净|清净)|你死了(?:世界|大家|我们)?(?:就|才|都)?(?:清净|轻松|开心|太平)',
  },
  {
    // Everyday Chinese words built from alarming characters, which the model flags on the characters: 杀毒软件
    // (antivirus), 垃圾桶 (a bin), 打死蚊子 (swat a mosquito), 杀怪 (kill monsters in a game), 小傻瓜 (a fond "silly"),
    // 笑死 / 累死了 (dying of laughter, of tiredness). Like every allow rule it vouches only for the words inside its
    // match: "杀毒软件都救不了你这个傻逼" is still flagged on 傻逼.
    id: 'builtin:allow-zh-harmless',
    label: ALLOW_LABEL,
    kind: 'pattern',
    value:
      '杀毒(?:软件)?|杀虫(?:剂)?|杀菌|垃圾(?:桶|袋|箱|站|场|车|分类|回收|处理|清运|堆|邮件|短信|食品)|废物(?:利用|处理|回收)|(?:打死|拍死|杀死|弄死|毒死)(?:这|那)?(?:一)?(?:只|个|群|窝)?(?:蚊子|苍蝇|蟑螂|老鼠|虫子)|杀(?:了)?(?:这个|那个)?(?:进程|怪|小怪|野怪|boss|副本)|[一二三四五]杀|小(?:傻瓜|笨蛋|傻蛋)|(?:笑|累|热|冷|饿|困|吓|气|烦|忙|难|辣|甜|咸|痛|疼|美|帅|酷|爽|馋|羡慕|尴尬|无聊|好吃|好看|难吃|难看)死(?:了|我了|人了)?',
  },
  {
    // Praise in gaming and chat slang: "this game is sick", "that's sick", "sick clip". The tweets the moderation
    // model learned from use "sick" as an insult, so it flags these on the one word. An allow rule vouches only for
    // the words inside its match (see analyse), so "that's sick, you idiot" still raises `offensive` on "idiot".
    id: 'builtin:allow-sick-praise',
    label: ALLOW_LABEL,
    kind: 'pattern',
    value: String.raw`(?:\b(?:this|that|the|it)\s+(?:[\p{L}\d'’]{1,20}\s{1,3}){0,2}(?:is|was|looks|looked|sounds|sounded)|\b(?:that|it|this)\s*${APOS}\s*s)\s+(?:so\s+|really\s+|pretty\s+|hella\s+|lowkey\s+|kinda\s+|fucking\s+)?sick\b${NOT_SICK_OF}|\bsick\s+(?:play|shot|clip|move|goal|combo|edit|beat|track|song|trick|build|skin|fit|outfit|drop|pull|save|ride|view|lineup|setup|flick|snipe|dunk|pass|catch|jump|gameplay|montage|run|win)s?\b`,
  },
]) as readonly Rule[];

/** The compiled form of a rule list: built once per settings copy, reused for every message. */
export class RuleSet {
  readonly #compiled: Array<{ rule: Rule; re: RegExp }>;
  readonly #obfuscated: Rule[];

  constructor(rules: readonly Rule[]) {
    this.#compiled = rules
      .filter((r) => r.kind !== 'obfuscated')
      .map((rule) => ({ rule, re: compiledRule(rule) }));
    this.#obfuscated = rules.filter((r) => r.kind === 'obfuscated');
  }

  get size(): number {
    return this.#compiled.length + this.#obfuscated.length;
  }

  /** The compiled expressions, in rule order (the obfuscated-word rules have none). */
  get expressions(): readonly RegExp[] {
    return this.#compiled.map((c) => c.re);
  }

  /**
   * Every rule that matches the (normalised) text, with the words it matched. Each rule also sees the text with
   * every digit-for-letter swap undone ("f1nd wh3re u l1ve"), which deobfuscate only does for lexicon words, and
   * with the gaps inside runs of Han characters closed ("杀 了 你").
   * `revealed`: the words deobfuscate uncovered in the original message (revealedWords), for `obfuscated` rules.
   */
  match(text: string, revealed: readonly RevealedWord[] = []): RuleHit[] {
    const folded = foldLeet(text);
    const joined = UNSPACED.test(text) ? joinHan(text) : text;
    const hits: RuleHit[] = [];
    for (const { rule, re } of this.#compiled) {
      const m =
        re.exec(text) ??
        (folded === text ? null : re.exec(folded)) ??
        (joined === text ? null : re.exec(joined));
      if (m) hits.push({ id: rule.id, label: rule.label, match: m[0].trim() });
    }
    const first = revealed.find((r) => r.word !== 'kys'); // "k.y.s" is the self-harm rule's
    if (first)
      for (const rule of this.#obfuscated)
        hits.push({
          id: rule.id,
          label: rule.label,
          match: first.written,
          why: `“${first.written}” (“${first.word}” written to dodge a filter)`,
        });
    return hits;
  }
}

/** Characters of scripts written without spaces between words (Han, kana). */
export const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/**
 * Expressions compiled for rules, by kind and text, shared by every RuleSet. A worker builds a RuleSet for each copy
 * of a workspace's settings, i.e. every `settingsTtlMs` (2 s), and a fresh RegExp object is compiled again from
 * nothing once a full collection has emptied V8's own cache of expressions, which a worker's main isolate runs every
 * few seconds at half load: the new RuleSet and its first 30 messages then took 20-23 ms instead of about 3 ms while
 * V8 compiled the built-ins again (`npx tsx bench/main-thread-costs.ts`, "rules after a settings refresh"), on the
 * worker's main thread, in the path of every message waiting there. A RegExp object kept alive keeps its code. The
 * expressions have no `g` or `y` flag, so `exec` keeps no state in them and sharing one is safe.
 */
const COMPILED = new LRUCache<string, RegExp>({ max: 4_096 });

/** The shared compiled expression of a rule (see COMPILED); throws as compileRule does, and caches nothing then. */
export function compiledRule(rule: Pick<Rule, 'kind' | 'value'>): RegExp {
  const key = `${rule.kind}\u0000${rule.value}`;
  let re = COMPILED.get(key);
  if (!re) {
    re = compileRule(rule);
    COMPILED.set(key, re);
  }
  return re;
}

/** Drops every shared compiled expression, so that the next RuleSets compile theirs afresh (tests, benches). */
export function forgetCompiledRules(): void {
  COMPILED.clear();
}

/** A rule's regular expression; throws a RangeError with the reason for an invalid or unsafe pattern. */
export function compileRule(rule: Pick<Rule, 'kind' | 'value'>): RegExp {
  if (rule.kind === 'obfuscated') throw new RangeError('an obfuscated-word rule has no expression');
  if (rule.kind === 'phrase') {
    const value = rule.value.trim();
    const words = value.split(/\s+/).map(escapeRegExp);
    // Whole words: no letter or digit may touch the phrase. Chinese and Japanese write no spaces between words,
    // so a phrase that starts or ends with one of their characters is matched inside a run of them.
    const before = UNSPACED.test(value[0]!) ? '' : String.raw`(?<![\p{L}\p{N}])`;
    const after = UNSPACED.test(value.at(-1)!) ? '' : String.raw`(?![\p{L}\p{N}])`;
    return new RegExp(`${before}${words.join(String.raw`\s+`)}${after}`, 'iu');
  }
  // Nested quantifiers are how a pattern takes exponential time on a crafted message; refuse them outright.
  if (/\([^)]*[+*][^)]*\)\s*[+*{]/.test(rule.value))
    throw new RangeError('nested repetition such as (a+)+ is not allowed in a pattern');
  try {
    return new RegExp(rule.value, 'iu');
  } catch (error) {
    throw new RangeError(`not a valid regular expression: ${(error as Error).message}`);
  }
}

/** The rules in effect for a workspace: built-ins minus the ones it switched off, then its own. */
export function effectiveRules(settings: {
  rules: readonly Rule[];
  disabledRules: readonly string[];
}): Rule[] {
  const off = new Set(settings.disabledRules);
  return [...BUILTIN_RULES.filter((r) => !off.has(r.id)), ...settings.rules];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
