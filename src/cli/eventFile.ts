/**
 * Reads a file of HR events for `lastday enqueue`: a JSON array, one JSON
 * object, or NDJSON (one JSON value per line). In NDJSON every line stands
 * alone: a line that does not parse is reported by its 1-based number and the
 * parse error, and the good lines still go in. A JSON array is one document, so
 * an array that does not parse is one error and nothing of it is sent.
 */

export interface FileEvent {
  /** 0-based position among the events of the file. */
  index: number;
  /** 1-based line of an NDJSON record. */
  line?: number;
  value: unknown;
}

export interface Unparsable {
  /** 1-based line of an NDJSON record; absent when the whole file is one document. */
  line?: number;
  error: string;
}

export interface EventFile {
  events: FileEvent[];
  unparsable: Unparsable[];
}

export function parseEventFile(text: string): EventFile {
  const trimmed = text.trim();
  if (trimmed === '') return { events: [], unparsable: [] };
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      return { events: [], unparsable: [{ error: `not a valid JSON array: ${(err as Error).message}` }] };
    }
    if (!Array.isArray(parsed)) return { events: [], unparsable: [{ error: 'expected a JSON array' }] };
    return { events: parsed.map((value, index) => ({ index, value })), unparsable: [] };
  }
  // One (possibly pretty-printed) JSON object is a file of one event.
  try {
    return { events: [{ index: 0, value: JSON.parse(trimmed) }], unparsable: [] };
  } catch {
    // NDJSON, below.
  }
  const result: EventFile = { events: [], unparsable: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      result.events.push({ index: result.events.length, line: i + 1, value: JSON.parse(line) });
    } catch (err) {
      result.unparsable.push({ line: i + 1, error: (err as Error).message });
    }
  });
  return result;
}
