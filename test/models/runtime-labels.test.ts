import { describe, expect, it } from 'vitest';
import { mapModerationLabels, mapSentimentLabels } from '../../models/runtime/index.ts';

describe('hub classifier label mapping', () => {
  it('GIVEN cardiffnlp-style LABEL_0..2 THEN they read as negative, neutral, positive', () => {
    expect(mapSentimentLabels({ 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' }).outputs).toEqual([
      { label: 'negative', index: 0 },
      { label: 'neutral', index: 1 },
      { label: 'positive', index: 2 },
    ]);
  });

  it('GIVEN named labels in any order or case THEN they map by name', () => {
    const map = mapSentimentLabels({ 0: 'Positive', 1: 'NEG', 2: 'neutral' });
    expect(map.outputs).toEqual([
      { label: 'positive', index: 0 },
      { label: 'negative', index: 1 },
      { label: 'neutral', index: 2 },
    ]);
    expect(map.activation).toBe('softmax');
  });

  it('GIVEN a binary sentiment model THEN neutral is simply absent', () => {
    expect(mapSentimentLabels({ 0: 'NEGATIVE', 1: 'POSITIVE' }).outputs.map((o) => o.label)).toEqual([
      'negative',
      'positive',
    ]);
    expect(mapSentimentLabels({ 0: 'LABEL_0', 1: 'LABEL_1' }).outputs.map((o) => o.label)).toEqual([
      'negative',
      'positive',
    ]);
  });

  it('GIVEN a label that is no sentiment THEN mapping fails with its name', () => {
    expect(() => mapSentimentLabels({ 0: 'joy', 1: 'anger' })).toThrow(/"joy"/);
  });

  it('GIVEN a multi-label toxicity model THEN every label is kept with a sigmoid', () => {
    const map = mapModerationLabels(
      { 0: 'toxic', 1: 'severe toxic', 2: 'identity-hate' },
      'multi_label_classification',
    );
    expect(map.activation).toBe('sigmoid');
    expect(map.outputs.map((o) => o.label)).toEqual(['toxic', 'severe_toxic', 'identity_hate']);
  });

  it('GIVEN a single-label model THEN softmax, and the "nothing wrong" class is not a label', () => {
    expect(mapModerationLabels({ 0: 'non-toxic', 1: 'toxic' })).toEqual({
      outputs: [{ label: 'toxic', index: 1 }],
      activation: 'softmax',
    });
    expect(mapModerationLabels({ 0: 'NOT', 1: 'OFF' }).outputs).toEqual([{ label: 'off', index: 1 }]);
    expect(
      mapModerationLabels({ 0: 'normal', 1: 'offensive', 2: 'hatespeech' }).outputs.map((o) => o.label),
    ).toEqual(['offensive', 'hatespeech']);
    expect(mapModerationLabels({ 0: 'LABEL_0', 1: 'LABEL_1' }).outputs).toEqual([
      { label: 'flagged', index: 1 },
    ]);
  });
});
