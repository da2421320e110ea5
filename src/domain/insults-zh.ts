/**
 * Chinese insults and profanity that are insults wherever they appear (傻逼, 他妈的, 贱人, 白痴…). The moderation
 * model learned Chinese from COLD, whose offensive lines are mostly about groups (region, race, gender); it passes
 * plain personal abuse such as "你真是个白痴" and "你他妈的滚出去". The built-in rule `builtin:insult-zh` raises
 * `offensive` on these, and the runtime shows each as one word where ICU's dictionary splits it (傻|逼).
 *
 * Left out on purpose: praise and exclamations (牛逼, 卧槽), words with common harmless senses (垃圾分类, 废物利用,
 * 智障儿童, 水滚开了), and names (尼玛, 沙比提). Those words count only when aimed at someone (ZH_AIMED_INSULTS).
 */
export const ZH_INSULTS: readonly string[] = Object.freeze([
  '傻逼',
  '傻B',
  '煞笔',
  '傻屄',
  '二逼',
  '他妈的',
  '去你妈的',
  '操你妈',
  '操你',
  '草泥马',
  '日你妈',
  '你妈逼',
  '狗日的',
  '狗娘养的',
  '王八蛋',
  '混蛋',
  '贱人',
  '贱货',
  '骚货',
  '婊子',
  '人渣',
  '畜生',
  '白痴',
  '脑残',
  '蠢货',
  '蠢猪',
  '狗东西',
  '杂种',
  '黑鬼',
  '娘炮',
  '死基佬',
  '滚蛋',
  '滚犊子',
  '给我滚',
  '滚出去',
  '滚远点',
  '滚一边去',
  '给老子滚',
  '憨批',
  '死变态',
  '丑八怪',
]);

/** Words that insult only when aimed at someone: "你这个垃圾", "你就是个废物", "你是不是有病", not "垃圾分类". */
export const ZH_AIMED_INSULTS: readonly string[] = Object.freeze([
  '垃圾',
  '废物',
  '智障',
  '弱智',
  '猪头',
  '猪脑子',
  '神经病',
  '有病',
  '脑子有病',
  '脑子有问题',
  '没脑子',
  '傻子',
  '二百五',
]);

/** What may stand between 你 and an aimed insult: "你真是个", "你们这些", "你他妈就是一个". */
const AIMED_LEAD = '你们?(?:这个|这种|这些|真|就|才|也|是|不是|简直|根本|一|个|他妈的?|特么|大|死|好){0,6}';
/** Compounds in which an aimed word is harmless: 垃圾分类, 废物利用, 猪头肉. */
const HARMLESS_AFTER =
  '(?!分类|桶|袋|箱|站|场|处理|回收|车|食品|邮件|短信|堆|清理|清运|焚烧|填埋|利用|肉|十|块|元)';

/**
 * Pinyin initials that stand for the insults above in Chinese chat: nmsl (你妈死了), wcnm and cnm (操你妈); "sb" (傻逼)
 * only when aimed ("你个sb"), since English uses it for "somebody".
 */
const ROMANISED = String.raw`\b(?:nmsl|wcnm|cnm)\b`;
/** Said to someone, not about a thing: "你什么玩意儿", "你妈的，闭嘴" (not "你妈的感受"). */
const PHRASES = String.raw`你(?:算|是)?(?:个)?什么(?:玩意儿?|东西)(?![都也没不])|你妈的(?=[，,。.!！?？\s]|$)`;
const AIMED_ROMANISED = String.raw`sb(?![a-z\d])`;

/**
 * Not in a line with kana: Japanese writes some of these words with other meanings (畜生 "damn it", after a lost
 * game). Checked after a word matched, so a long line is not scanned at every position.
 */
const KANA = String.raw`[\p{Script=Hiragana}\p{Script=Katakana}]`;
const NOT_JAPANESE = String.raw`(?![^\n]*${KANA})(?<!${KANA}[^\n]*)`;

/** The built-in rule's pattern: any of ZH_INSULTS, or one of ZH_AIMED_INSULTS after 你 and at most six lead words. */
export const ZH_INSULT_PATTERN = `(?:(?:${ZH_INSULTS.join('|')})|${ROMANISED}|${PHRASES}|${AIMED_LEAD}(?:(?:${[...ZH_AIMED_INSULTS].sort((a, b) => b.length - a.length).join('|')})${HARMLESS_AFTER}|${AIMED_ROMANISED}))${NOT_JAPANESE}`;

/** Every multi-character term above: the words the runtime keeps whole when ICU's dictionary splits them. */
export const ZH_TERMS: ReadonlySet<string> = new Set([...ZH_INSULTS, ...ZH_AIMED_INSULTS]);
