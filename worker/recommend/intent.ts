/**
 * Requests for a recommendation, in English and Chinese: "where should I go on holiday?", "can you recommend a
 * film", "I want to go somewhere with good food", "推荐一个地方", "我想去…度假". Deliberately narrow: a false
 * positive replaces an ordinary reply with a recommendation.
 */
const PATTERNS: readonly RegExp[] = [
  /\b(recommend|recommendations?|suggest|suggestions?)\b/i,
  /\bwhere (should|could|can|shall|do) (i|we)\b/i,
  /\bwhat (should|could|can|shall) (i|we) (watch|read|listen|play|do|visit|see|try|join|learn)\b/i,
  /\b(i|we) (want|would like|'d like|wanna) to (go|travel|visit|watch|read|learn|try)\b/i,
  /\b(looking for|any) (a )?(good )?(place|places|ideas|tips)\b/i,
  /推荐|建议|想去|去哪|哪里好|什么地方|度假/u,
];

export function isRecommendationRequest(text: string): boolean {
  return PATTERNS.some((p) => p.test(text));
}
