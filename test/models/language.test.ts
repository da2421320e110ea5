import { beforeAll, describe, expect, it } from 'vitest';
import { LifecycleError } from '../../src/errors.ts';
import { detectLanguage, loadLanguageDetector } from '../../models/runtime/language.ts';

describe('the language detector before it is loaded', () => {
  it('GIVEN no loadLanguageDetector() yet THEN every line fails clearly, not only those that need ELD', () => {
    // ELD's tables (~40 MB of heap) load only where languages are detected, never at import.
    expect(() => detectLanguage('hello there')).toThrow(LifecycleError);
    expect(() => detectLanguage('Dziękuję bardzo za pomoc')).toThrow(/loadLanguageDetector/);
  });
});

// Short chat lines, the hard case for n-gram identifiers. The figures on whole validation sets are in
// `npm run eval` (language rows); these pin the policy, not the library.
describe('detectLanguage', () => {
  beforeAll(() => loadLanguageDetector());

  it('GIVEN Chinese, Japanese or Korean text THEN the script decides, whatever the length', () => {
    expect(detectLanguage('我想去一个风景优美、美食丰富的地方度假')).toBe('zh');
    expect(detectLanguage('好的')).toBe('zh');
    expect(detectLanguage('ラーメン食べたい')).toBe('ja');
    expect(detectLanguage('今日は雨ですね')).toBe('ja');
    expect(detectLanguage('안녕하세요')).toBe('ko');
  });

  it('GIVEN a CJK line that names the bot or a thing in Latin letters THEN the CJK language: a character weighs as a word', () => {
    // Counted by letters, "steward," (7) outweighed 明天会下雨吗 (6) and the question got an English answer.
    expect(detectLanguage('steward, 明天会下雨吗？')).toBe('zh');
    expect(detectLanguage('steward, 你好')).toBe('zh');
    expect(detectLanguage('我用 Python 写代码')).toBe('zh');
    expect(detectLanguage('@Alice Smith 你说得对')).toBe('zh');
    expect(detectLanguage('steward, こんにちは')).toBe('ja');
    expect(detectLanguage('steward, 안녕하세요')).toBe('ko');
    // English lines that name a place in Chinese stay English.
    expect(detectLanguage('I went to 北京 last summer')).toBe('en');
    expect(detectLanguage('I love 北京')).toBe('en');
  });

  it('GIVEN short English chat slang that identifiers misread THEN it is English (moderation must not abstain)', () => {
    for (const line of ['lol', 'kys', 'u suck', 'idk man', 's t u p i d', 'sh1t', 'gg', 'wtf', 'hello']) {
      expect(detectLanguage(line), line).toBe('en');
    }
  });

  it('GIVEN a short English line that ELD scores nearly as English as another language THEN English', () => {
    // ELD alone: Norwegian 0.68 vs English 0.66, Tagalog 0.64 vs English 0.63 (both "reliable").
    expect(detectLanguage('I like Pocahontas.')).toBe('en');
    expect(detectLanguage('Feeling nostalgic?')).toBe('en');
    // Plain-ASCII foreign lines that English is not close to stay foreign.
    expect(detectLanguage('Das ist sehr gut so')).toBe('de');
    expect(detectLanguage('ik ben heel erg moe vandaag')).toBe('nl');
    expect(detectLanguage('aku mau makan dulu')).toBe('ms');
  });

  it('GIVEN other scripts or clearly foreign Latin text THEN not English', () => {
    expect(detectLanguage('Привет, как дела? Сегодня хорошая погода')).toBe('ru');
    expect(detectLanguage('Hola, ¿cómo estás? Hoy hace muy buen tiempo')).toBe('es');
    expect(detectLanguage('مرحبا كيف حالك')).not.toBe('en');
    expect(detectLanguage('สวัสดีครับ')).not.toBe('en');
    expect(detectLanguage('नमस्ते, आप कैसे हैं?')).not.toBe('en');
  });

  it('GIVEN no letters at all THEN und', () => {
    expect(detectLanguage('😀😀 12345 !!!')).toBe('und');
  });
});
