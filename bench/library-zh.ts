/**
 * `npx tsx bench/library-zh.ts [--json-only]` — a Chinese community library, asked in Chinese.
 *
 * No dataset here holds Chinese FAQ questions, so this is a probe written by hand (2026-12-03), not a validation set:
 * a 10-item Chinese FAQ (events, rules, channels, resources) and 29 questions, 21 about an item (worded apart from it)
 * and 8 about nothing in it. It runs the reply plan as the worker does (LibraryIndexes with the bundled null lines,
 * GroundedReplies.plan, the message's language) with the library's sentence encoder, and prints:
 * - covered: the right item is the cited (top) source;
 * - uncovered: Steward says it does not know (no source cited).
 * Its figures are not blind: they were read while the Chinese word splitting, the Chinese null lines and the
 * Chinese sentence passages were built (models/bundled/library/README.md).
 */
import { parseArgs } from 'node:util';
import { LocalEngine } from '../models/runtime/local-engine.ts';
import { loadConfig } from '../src/config.ts';
import type { LibraryItem } from '../src/domain/library.ts';
import { createLogger } from '../src/logger.ts';
import { MemoryLibrary } from '../src/store/library.ts';
import { GroundedReplies } from '../worker/library/replies.ts';
import { LibraryIndexes } from '../worker/library/sync.ts';

const { values: args } = parseArgs({ options: { 'json-only': { type: 'boolean', default: false } } });

const ITEMS: LibraryItem[] = [
  [
    'meetup',
    '每月线下聚会',
    '我们的每月线下聚会在每个月第一个星期六下午三点举行，地点是市图书馆三楼会议室。聚会免费，不需要报名。',
    'event',
  ],
  ['rules', '社区规则', '禁止人身攻击和骚扰。违反规则的成员会先收到警告，再次违反将被封禁。', 'faq'],
  [
    'help',
    '编程求助频道',
    '遇到代码报错时，请在 #求助 频道贴出完整的错误信息和代码片段，志愿者会帮你解答。',
    'channel',
  ],
  [
    'donate',
    '捐助服务器费用',
    '服务器费用由成员自愿捐助，可以通过 Open Collective 页面捐款。每一笔捐款都会在月报里公开。',
    'faq',
  ],
  [
    'appeal',
    '封禁申诉',
    '如果你认为自己被错误封禁，可以发邮件到 appeal@example.org 提交申诉，管理员会在七天内回复。',
    'faq',
  ],
  [
    'hackathon',
    '年度黑客马拉松',
    '年度黑客马拉松在十月举办，为期两天，个人或三人以内的小组都可以参加，奖品包括显卡和书籍。',
    'event',
  ],
  [
    'books',
    '推荐书单',
    '新手推荐阅读《Python 编程：从入门到实践》和《算法图解》，进阶可以看《深入理解计算机系统》。',
    'resource',
  ],
  [
    'jobs',
    '招聘频道',
    '招聘信息只能发在 #招聘 频道，需要写明公司名称、薪资范围和工作地点，禁止发布培训广告。',
    'channel',
  ],
  ['mentor', '导师计划', '导师计划每季度招募一次，新成员可以申请由有经验的成员一对一指导三个月。', 'event'],
  [
    'voice',
    '语音频道',
    '每周三晚上八点在语音频道有自由交流时间，可以练习英语口语，也可以聊技术话题。',
    'event',
  ],
].map(([id, title, text, kind]) => ({
  id: id!,
  title: title!,
  text: text!,
  kind: kind as LibraryItem['kind'],
}));

/** [the item the question is about, or null, and the question]. */
const QUESTIONS: Array<[string | null, string]> = [
  ['meetup', '线下聚会是几点开始？'],
  ['meetup', '聚会需要报名吗？'],
  ['meetup', '每个月的聚会在什么地方？'],
  ['rules', '在群里骂人会怎么样？'],
  ['rules', '骚扰别人会被处罚吗？'],
  ['help', '我的程序报错了，应该去哪里问？'],
  ['help', '代码有问题可以找谁帮忙？'],
  ['donate', '怎么给服务器捐钱？'],
  ['donate', '捐款的去向公开吗？'],
  ['appeal', '我被误封了怎么办？'],
  ['appeal', '封号申诉的邮箱是什么？'],
  ['hackathon', '黑客马拉松什么时候举行？'],
  ['hackathon', '黑客马拉松可以组队参加吗？'],
  ['books', '有什么适合新手的编程书？'],
  ['books', '想学算法，看什么书好？'],
  ['jobs', '招聘广告应该发在哪里？'],
  ['jobs', '发招聘信息有什么要求？'],
  ['mentor', '怎么申请导师？'],
  ['mentor', '有没有一对一的指导？'],
  ['voice', '哪里可以练习英语口语？'],
  ['voice', '语音聊天是什么时间？'],
  [null, '明天会下雨吗？'],
  [null, '北京到上海的高铁票多少钱？'],
  [null, '怎么做红烧肉？'],
  [null, '世界上最高的山是哪座？'],
  [null, 'iPhone 和安卓哪个好？'],
  [null, '今年的春节是几月几号？'],
  [null, '怎么治疗感冒？'],
  [null, '附近有什么好吃的餐厅？'],
];

async function main(): Promise<void> {
  const config = loadConfig({ overrides: { 'models.threads': 1 } });
  const engine = new LocalEngine(config, createLogger({ level: 'warn' }), { reply: false });
  await engine.start();
  try {
    const store = new MemoryLibrary();
    await store.putLibraryItems('local', 'zh', ITEMS);
    const embed = (texts: string[]) => engine.embedSearch(texts);
    const grounded = new GroundedReplies(new LibraryIndexes(store, embed), embed, async (requests) =>
      requests.map(() => null),
    );
    const plans = await grounded.plan(
      QUESTIONS.map(([, text]) => ({
        platform: 'local' as const,
        workspaceId: 'zh',
        request: { text, context: [] },
        reason: 'mention' as const,
        language: 'zh',
      })),
    );
    let right = 0;
    let unknown = 0;
    QUESTIONS.forEach(([expected, text], i) => {
      const cited = plans[i]!.sources[0]?.id ?? null;
      if (expected !== null && cited === expected) right += 1;
      if (expected === null && cited === null) unknown += 1;
      if (!args['json-only'])
        console.log(`${cited === expected ? 'ok' : '✗ '} ${expected ?? '-'} → ${cited ?? '-'}  ${text}`);
    });
    const covered = QUESTIONS.filter(([e]) => e !== null).length;
    const uncovered = QUESTIONS.length - covered;
    if (!args['json-only'])
      console.log(
        `covered: right item cited ${right}/${covered}; uncovered: "I don't know" ${unknown}/${uncovered}`,
      );
    console.log(JSON.stringify({ eval: 'library-zh-probe', covered, right, uncovered, unknown }));
  } finally {
    await engine.stop();
  }
}

await main();
