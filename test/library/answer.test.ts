import { expect, it } from 'vitest';
import type { LibraryHit } from '../../src/domain/library.ts';
import {
  asksForInformation,
  bestSentence,
  DefaultGroundingOptions,
  drawsOnAsked,
  evidence,
  finishReply,
  isSupported,
  planReply,
  textsFor,
} from '../../worker/library/answer.ts';
import { analyzeTerms } from '../../worker/library/terms.ts';
import { LIBRARY } from './fixtures.ts';

const hit = (score: number, i = 0): LibraryHit => ({
  item: LIBRARY[i]!,
  score,
  lexical: score,
  semantic: score,
});
const request = { text: 'when is the meetup?', context: [] };
const options = {
  threshold: 0.5,
  quantile: 0.9,
  unknownText: "I don't know.",
  emptyText: 'The library is empty.',
  otherLanguageText: 'English only.',
};

it('GIVEN a hit above the threshold THEN the reply answers from it, citing title and link', () => {
  const plan = planReply(request, [hit(0.8)], options);
  expect(plan.kind).toBe('library');
  expect(plan.request.source).toEqual({ title: 'Monthly meetup', text: LIBRARY[0]!.text });
  const done = finishReply(plan, null, 'mention', options);
  expect(done.text).toBe(
    'We meet on the first Friday of every month at 6pm in the Central Library, room 3. (source: Monthly meetup — https://example.org/meetup)',
  );
  expect(done.sources).toEqual([
    { id: 'meetup', title: 'Monthly meetup', url: 'https://example.org/meetup', score: 0.8 },
  ]);
});

it('GIVEN the model invents a fact the source does not hold THEN the source is quoted instead', () => {
  const plan = planReply(request, [hit(0.8)], options);
  const invented = finishReply(plan, 'The meetup is on Tuesday at noon in Berlin.', 'mention', options);
  expect(invented.generated).toBe(false);
  expect(invented.text).toContain('first Friday');
  const supported = finishReply(plan, 'It is on the first Friday at 6pm.', 'mention', options);
  expect(supported.generated).toBe(true);
  expect(supported.text).toBe(
    'It is on the first Friday at 6pm. (source: Monthly meetup — https://example.org/meetup)',
  );
  expect(supported.evidence).toEqual(['first', 'friday', '6pm']);
});

it('GIVEN a question below the threshold THEN "I don\'t know" when addressed, silence for a topic match', () => {
  const plan = planReply({ text: 'what is the capital of Peru?', context: [] }, [hit(0.3)], options);
  expect(plan.kind).toBe('unknown');
  expect(finishReply(plan, null, 'mention', options)).toEqual({ text: "I don't know.", sources: [] });
  expect(finishReply(plan, null, 'topic', options).text).toBeNull();
});

it('GIVEN small talk THEN the reply chats, whatever the library', () => {
  expect(planReply({ text: 'how are you today?', context: [] }, [hit(0.1)], options).kind).toBe('chat');
  expect(planReply({ text: 'how was your weekend?', context: [] }, [], options).kind).toBe('chat');
});

it('GIVEN a request for information and an empty library THEN "I don\'t know", saying the library is empty', () => {
  // Before: small talk from the chit-chat bank ("where should I go on holiday?" → "I would love that!").
  const plan = planReply({ text: 'where should I go on holiday?', context: [] }, [], options);
  expect(plan.kind).toBe('unknown');
  expect(finishReply(plan, null, 'mention', options)).toEqual({ text: 'The library is empty.', sources: [] });
  expect(finishReply(plan, null, 'topic', options).text).toBeNull();
});

it('GIVEN requests and small talk THEN asksForInformation tells them apart', () => {
  for (const t of [
    'where do I post coding questions',
    'Tell me about the meetup',
    'book a table for two',
    'is there a ban appeal?',
    'flights to paris next week',
    'a show on broadway',
    // Yes/no questions without their question mark.
    'is the server down right now',
    'are the meetups recorded',
    'does the bot keep logs',
    'can anyone join the tournament',
    // Asking Steward to find or recommend something.
    'can you recommend a book?',
    'do you know when the meetup starts',
    'what do you suggest for a first build?',
    'where should I go on holiday?',
    '周末去哪里玩比较好？',
    '聚会几点开始',
    '请推荐一本书',
    // Asking Steward to recommend or tell something is a request, also with 你 first.
    '你能推荐一本书吗？',
    '你知道聚会在哪里吗',
    '你好，请问聚会在哪？',
  ])
    expect(asksForInformation(t), t).toBe(true);
  for (const t of [
    'how are you?',
    'do you like star wars?',
    'I love that movie',
    'what do you think of pizza?',
    'the new batman movie was awesome',
    'are you a bot',
    'do you watch anime',
    'is great',
    // Questions about the one addressed are small talk, not library questions.
    "what's your favorite movie?",
    'how was your weekend?',
    'how old are you?',
    'what are you up to?',
    'tell me a joke',
    'hello bot, how are you?',
    'hey there, what are you up to?',
    '你好',
    '今天好累啊',
    // Questions about the one addressed, in Chinese too.
    '你喜欢什么电影？',
    '你是谁？',
    '你多大了？',
    '你好吗',
    '你平时听什么音乐？',
  ])
    expect(asksForInformation(t), t).toBe(false);
});

it('GIVEN a Chinese passage THEN its sentences and words are told apart, and the one the question is about is quoted', () => {
  const passage =
    '每月聚会在第一个星期六下午三点举行。停车场在图书馆后面，可以免费停车。会后大家一起吃晚饭。';
  expect(bestSentence(passage, '停车免费吗？')).toBe('停车场在图书馆后面，可以免费停车。');
  expect(bestSentence(passage, '聚会几点开始？')).toBe('每月聚会在第一个星期六下午三点举行。');
  expect(evidence('停车场在图书馆后面，可以免费停车。', passage)).toEqual(
    expect.arrayContaining(['停车', '后面', '免费']),
  );
});

it('GIVEN a passage THEN the sentence sharing most words with the request is picked', () => {
  expect(bestSentence('We meet on Fridays. Parking is free behind the hall.', 'is parking free?')).toBe(
    'Parking is free behind the hall.',
  );
  expect(
    isSupported('Parking is free.', 'is parking free?', 'Meetup', 'Parking is free behind the hall.'),
  ).toBe(true);
  expect(isSupported('Parking costs five euros.', 'is parking free?', 'Meetup', 'Parking is free.')).toBe(
    false,
  );
});

it('GIVEN an answer copied from the wrong sentence of the right item THEN the worker quotes the asked one instead', () => {
  const passage = 'We meet on Fridays in the hall. Parking is free behind the hall.';
  const request = 'is parking free?';
  expect(drawsOnAsked('Parking is free behind the hall.', request, passage)).toBe(true);
  expect(drawsOnAsked('We meet on Fridays in the hall.', request, passage)).toBe(false);
  // Stitched from both sentences: every word is in the passage, but no one sentence says it.
  expect(drawsOnAsked('We meet behind the hall.', 'where do we meet?', passage)).toBe(false);
  // Supported (every word is in the passage) but not what was asked: quoted instead.
  const hitOf = {
    item: { id: 'm', title: 'Meetup', text: passage },
    score: 0.9,
    lexical: 0.9,
    semantic: 0.9,
  };
  const plan = planReply({ text: request, context: [] }, [hitOf as LibraryHit], DefaultGroundingOptions);
  const wrong = finishReply(plan, 'We meet on Fridays in the hall.', 'mention');
  expect(wrong.generated).toBe(false);
  expect(wrong.answer).toBe('Parking is free behind the hall.');
  const right = finishReply(plan, 'Parking is free behind the hall.', 'mention');
  expect(right.generated).toBe(true);
  // A question sharing no content word with any sentence leaves the choice to the model.
  expect(drawsOnAsked('We meet on Fridays in the hall.', 'when do we get together?', passage)).toBe(true);
});

it('GIVEN a Chinese message THEN the fixed texts and the citation are in Chinese; other languages get English', () => {
  const plan = planReply({ text: '明天会下雨吗？', context: [] }, [], DefaultGroundingOptions);
  expect(finishReply(plan, null, 'mention', DefaultGroundingOptions, 'zh').text).toBe(
    DefaultGroundingOptions.translations.zh.emptyText,
  );
  expect(finishReply(plan, null, 'mention', DefaultGroundingOptions, 'de').text).toBe(
    DefaultGroundingOptions.emptyText,
  );
  expect(textsFor(DefaultGroundingOptions, 'zh').otherLanguageText).toMatch(/英文/);
  const hit = {
    item: { id: 'p', title: '停车', text: '可以免费停车。' },
    score: 0.9,
    lexical: 0,
    semantic: 0.9,
  } as LibraryHit;
  const answered = finishReply(
    planReply({ text: '停车免费吗？', context: [] }, [hit], DefaultGroundingOptions),
    null,
    'mention',
    DefaultGroundingOptions,
    'zh',
  );
  expect(answered.text).toBe('可以免费停车。 (来源: 停车)');
});

it('GIVEN Chinese text THEN the lexical analyser splits it into words without function words; English is as before', () => {
  expect(analyzeTerms('聚会需要报名吗？')).toEqual(['聚会', '需要', '报名']);
  expect(analyzeTerms('黑客马拉松什么时候举行？')).toContain('举行');
  expect(analyzeTerms('黑客马拉松什么时候举行？')).not.toContain('什么时候');
  expect(analyzeTerms('我用 Python 写代码')).toEqual(expect.arrayContaining(['python', '代码']));
  expect(analyzeTerms("Where's the meetup? It's at the library")).toEqual(['meetup', 'library']);
});

it('GIVEN Chinese lines that start with 你 but ask about something else THEN they still ask', () => {
  for (const t of ['你看，这个报错怎么办？', '你听说过黑客马拉松吗？', '你看一下聚会在哪里？'])
    expect(asksForInformation(t), t).toBe(true);
});
