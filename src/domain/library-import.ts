import { type LibraryItem, LibraryItemSchema, slugId } from './library.ts';

export interface ParsedLibrary {
  items: LibraryItem[];
  /** One entry per line or section that could not be read: where, and why. */
  errors: string[];
}

/**
 * Reads library items from text: JSONL (one JSON object per line with the LibraryItem fields; `id` may be left
 * out and is then made from the title) or Markdown (each `##`/`###` heading starts an item, its text runs to
 * the next heading, the first link in it becomes the url, and a `#` heading sets the topic of the items under it).
 */
export function parseLibraryText(
  text: string,
  format: 'jsonl' | 'markdown' | 'auto' = 'auto',
): ParsedLibrary {
  const kind = format === 'auto' ? (/^\s*\{/.test(text) ? 'jsonl' : 'markdown') : format;
  return kind === 'jsonl' ? parseJsonl(text) : parseMarkdown(text);
}

function validate(raw: Record<string, unknown>, where: string, out: ParsedLibrary): void {
  const candidate = { ...raw };
  if (candidate.id === undefined && typeof candidate.title === 'string')
    candidate.id = slugId(candidate.title);
  const parsed = LibraryItemSchema.safeParse(candidate);
  if (parsed.success) out.items.push(parsed.data);
  else {
    const issue = parsed.error.issues[0];
    out.errors.push(`${where}: ${issue ? `${issue.path.join('.') || 'item'}: ${issue.message}` : 'invalid'}`);
  }
}

function parseJsonl(text: string): ParsedLibrary {
  const out: ParsedLibrary = { items: [], errors: [] };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.errors.push(`line ${i + 1}: not valid JSON`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.errors.push(`line ${i + 1}: not a JSON object`);
      return;
    }
    validate(value as Record<string, unknown>, `line ${i + 1}`, out);
  });
  return dedupe(out);
}

const LINK = /\[[^\]]*\]\((https?:\/\/[^)\s]+)\)|<(https?:\/\/[^>\s]+)>|(https?:\/\/\S+)/;

function parseMarkdown(text: string): ParsedLibrary {
  const out: ParsedLibrary = { items: [], errors: [] };
  let topic: string | undefined;
  let current: { title: string; line: number; body: string[]; topic?: string } | null = null;
  const flush = () => {
    if (!current) return;
    const body = current.body.join('\n').trim();
    const link = LINK.exec(body);
    const url = link ? (link[1] ?? link[2] ?? link[3]) : undefined;
    const kindLine = /^kind:\s*(faq|resource|channel|event)\s*$/im.exec(body);
    const cleaned = body
      .replace(/^kind:.*$/im, '')
      .replace(/\[([^\]]*)\]\((https?:\/\/[^)\s]+)\)/g, '$1')
      .replace(/\s+/g, ' ')
      .trim();
    validate(
      {
        title: current.title,
        text: cleaned === '' ? current.title : cleaned,
        ...(url ? { url: url.replace(/[.,;]+$/, '') } : {}),
        ...(current.topic ? { topic: current.topic } : {}),
        ...(kindLine ? { kind: kindLine[1]!.toLowerCase() } : {}),
      },
      `line ${current.line}`,
      out,
    );
    current = null;
  };
  text.split('\n').forEach((line, i) => {
    const heading = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      if (heading[1]!.length === 1) topic = heading[2]!.slice(0, 50);
      else current = { title: heading[2]!, line: i + 1, body: [], ...(topic ? { topic } : {}) };
      return;
    }
    current?.body.push(line);
  });
  flush();
  return dedupe(out);
}

/** Later items with the same id win, as they would when put one after another. */
function dedupe(parsed: ParsedLibrary): ParsedLibrary {
  const byId = new Map(parsed.items.map((item) => [item.id, item]));
  return { items: [...byId.values()], errors: parsed.errors };
}
