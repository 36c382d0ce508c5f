/** Numbers and times as the page prints them. */

/** Virtual ns as a short human time: 950 ns, 12.5 us, 3.200 ms, 1.250 s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '?';
  const abs = Math.abs(ns);
  if (abs < 1_000) return `${ns} ns`;
  if (abs < 1_000_000) return `${(ns / 1_000).toFixed(abs < 10_000 ? 2 : 1)} µs`;
  if (abs < 1_000_000_000) return `${(ns / 1_000_000).toFixed(3)} ms`;
  return `${(ns / 1_000_000_000).toFixed(3)} s`;
}

const UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1_000, 'µs': 1_000, ms: 1_000_000, s: 1_000_000_000 };

/**
 * A point typed in the "go to" box: an integer is a seq; a number with a unit (5ms, 250 us,
 * 1.5 ms) is a virtual time. Returns null for anything else.
 */
export function parsePoint(text: string): { readonly seq: number } | { readonly timeNs: number } | null {
  const trimmed = text.trim().replace(',', '.');
  if (/^#?\d+$/.test(trimmed)) return { seq: Number(trimmed.replace('#', '')) };
  const match = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/.exec(trimmed);
  if (match === null) return null;
  return { timeNs: Math.round(Number(match[1]) * UNITS[match[2]]) };
}

/** A compact one-line rendering of an event's data for the event list. */
export function formatData(data: unknown): string {
  if (data === null || typeof data !== 'object') return String(data);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    let text: string;
    if (key === 'pc' || key === 'addr') text = typeof value === 'number' ? `0x${value.toString(16)}` : String(value);
    else if (typeof value === 'string') text = JSON.stringify(value);
    else text = JSON.stringify(value);
    parts.push(`${key}=${text}`);
  }
  return parts.join(' ');
}
