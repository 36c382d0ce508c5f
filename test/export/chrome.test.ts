/**
 * `vmmsim export LOG --format chrome`: the trace is checked against a schema written from the
 * Trace Event Format's reference (the "Trace Event Format" document by Duffy and Nduca that
 * Perfetto's "Legacy JSON trace format" page links to), not against our own builder:
 * - JSON Object Format: an object with a `traceEvents` array; `displayTimeUnit` is "ms" or "ns";
 * - every event has `name`, `ph`, `pid`; all but metadata have `ts` in microseconds;
 * - complete events (`X`) have `dur` >= 0 and a `tid`; on one thread they nest or are disjoint;
 * - instant events (`i`) have a scope `s` of g, p or t (t needs a `tid`);
 * - counters (`C`) have `args` whose values are numbers (one series per key);
 * - flow events (`s`, `f`) have an `id`; each start has one finish, not earlier; `bp: "e"` binds
 *   the finish to the slice enclosing it;
 * - metadata (`M`) named process_name / thread_name (args.name) or thread_sort_index (args.sort_index).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { main } from '../../src/cli/main.js';
import { ChromeTraceBuilder } from '../../src/export/chrome.js';
import { readLog } from '../../src/core/log/reader.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

const base = { name: z.string().min(1), pid: z.number().int(), tid: z.number().int().optional(), cat: z.string().optional(), args: z.record(z.string(), z.unknown()).optional() };
const ts = z.number().nonnegative();
const traceEvent = z.union([
  z.object({ ...base, ph: z.literal('X'), ts, dur: z.number().nonnegative(), tid: z.number().int() }).strict(),
  z.object({ ...base, ph: z.literal('i'), ts, s: z.enum(['g', 'p', 't']) }).strict().refine((event) => event.s !== 't' || event.tid !== undefined, 'thread-scoped instant without tid'),
  z.object({ ...base, ph: z.literal('C'), ts, args: z.record(z.string(), z.number()) }).strict(),
  z.object({ ...base, ph: z.literal('s'), ts, id: z.number().int(), tid: z.number().int() }).strict(),
  z.object({ ...base, ph: z.literal('f'), ts, id: z.number().int(), tid: z.number().int(), bp: z.literal('e').optional() }).strict(),
  z.union([
    z.object({ ...base, ph: z.literal('M'), name: z.enum(['process_name', 'thread_name']), args: z.object({ name: z.string() }) }).strict(),
    z.object({ ...base, ph: z.literal('M'), name: z.literal('thread_sort_index'), args: z.object({ sort_index: z.number().int() }) }).strict(),
  ]),
]);
const traceFile = z.object({ traceEvents: z.array(traceEvent), displayTimeUnit: z.enum(['ms', 'ns']).optional(), otherData: z.record(z.string(), z.unknown()).optional() }).strict();
type Trace = z.infer<typeof traceFile>;
type Slice = { ts: number; dur: number; name: string };

/** Problems the format's rules find beyond the per-event schema (nesting, flows). */
function structuralProblems(trace: Trace): string[] {
  const problems: string[] = [];
  const slices = new Map<number, Slice[]>();
  for (const event of trace.traceEvents) {
    if (event.ph !== 'X') continue;
    const list = slices.get(event.tid) ?? [];
    list.push({ ts: event.ts, dur: event.dur, name: event.name });
    slices.set(event.tid, list);
  }
  const eps = 1e-6;
  for (const [tid, list] of slices) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const stack: Slice[] = [];
    for (const slice of list) {
      while (stack.length > 0 && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= slice.ts + eps) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent !== undefined && slice.ts + slice.dur > parent.ts + parent.dur + eps) problems.push(`tid ${tid}: ${slice.name} at ${slice.ts} overlaps ${parent.name} at ${parent.ts} without nesting`);
      stack.push(slice);
    }
  }
  const starts = new Map<number, number>();
  const finishes = new Map<number, { ts: number; tid: number }>();
  for (const event of trace.traceEvents) {
    if (event.ph === 's') {
      if (starts.has(event.id)) problems.push(`flow ${event.id} starts twice`);
      starts.set(event.id, event.ts);
    }
    if (event.ph === 'f') {
      if (finishes.has(event.id)) problems.push(`flow ${event.id} finishes twice`);
      finishes.set(event.id, { ts: event.ts, tid: event.tid });
    }
  }
  for (const [id, start] of starts) {
    const finish = finishes.get(id);
    if (finish === undefined) continue; // a wake-up whose dispatch the run did not reach
    if (finish.ts < start) problems.push(`flow ${id} finishes before it starts`);
    const enclosing = (slices.get(finish.tid) ?? []).some((slice) => slice.ts <= finish.ts + eps && finish.ts <= slice.ts + slice.dur + eps);
    if (!enclosing) problems.push(`flow ${id}: no slice encloses its finish (bp e)`);
  }
  for (const id of finishes.keys()) if (!starts.has(id)) problems.push(`flow ${id} finishes without a start`);
  return problems;
}

const dir = mkdtempSync(join(tmpdir(), 'vmmsim-export-'));
const LOG = join(dir, 'demo.jsonl');
const run = cli(['run', '--json', '--log', LOG]);
const SUMMARY = JSON.parse(run.stdout) as { pcpus: { index: number; busyNs: number }[]; timeNs: number };

describe('vmmsim export --format chrome', () => {
  const out = join(dir, 'demo.trace.json');
  const exported = cli(['export', LOG, '--format', 'chrome', '--out', out]);
  const trace = traceFile.parse(JSON.parse(readFileSync(out, 'utf8')));

  it('writes a trace that passes the schema written from the format reference', () => {
    expect(exported.code).toBe(0);
    expect(structuralProblems(trace)).toEqual([]);
    const names = trace.traceEvents.filter((event) => event.ph === 'M' && event.name === 'thread_name').map((event) => (event.args as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining(['pCPU 0', 'pCPU 1', 'vm/alpha/vcpu/0', 'vm/rogue/vcpu/0']));
    const phases = new Set(trace.traceEvents.map((event) => event.ph));
    expect([...phases].sort()).toEqual(['C', 'M', 'X', 'i']);
    const instants = new Set(trace.traceEvents.filter((event) => event.ph === 'i').map((event) => event.name));
    expect(instants).toContain('exit.io');
    expect(instants).toContain('irq.inject');
    expect(instants).toContain('vm.crashed');
    const counters = new Set(trace.traceEvents.filter((event) => event.ph === 'C').map((event) => event.name));
    expect(counters).toEqual(new Set(['run queue', 'CPU share']));
  });

  it("sums each pCPU's guest slices to the busy time the run summary prints, exactly", () => {
    const guest = SUMMARY.pcpus.map(() => 0);
    for (const event of trace.traceEvents) if (event.ph === 'X' && event.cat === 'guest') guest[event.tid - 1] += Math.round(event.dur * 1000);
    expect(guest).toEqual(SUMMARY.pcpus.map((pcpu) => pcpu.busyNs));
    // Residency (guest time plus exit handling) covers at least the guest time, and at most the run.
    const residency = SUMMARY.pcpus.map(() => 0);
    for (const event of trace.traceEvents) if (event.ph === 'X' && event.cat === 'vcpu') residency[event.tid - 1] += event.dur * 1000;
    residency.forEach((ns, index) => {
      expect(ns).toBeGreaterThanOrEqual(SUMMARY.pcpus[index].busyNs);
      expect(ns).toBeLessThanOrEqual(SUMMARY.timeNs);
    });
  });

  it('the counters agree with the log: the CPU share averages to the guest residency, the run queue never goes negative', () => {
    const shares = trace.traceEvents.flatMap((event) => (event.ph === 'C' && event.name === 'CPU share' ? [event] : []));
    const queue = trace.traceEvents.filter((event) => event.ph === 'C' && event.name === 'run queue').map((event) => (event.args as Record<string, number>).runnable);
    expect(Math.min(...queue)).toBeGreaterThanOrEqual(0);
    // Integral of every VM's share over time = residency / pCPUs.
    let integral = 0;
    for (let index = 0; index + 1 < shares.length; index++) {
      const sum = Object.values(shares[index].args as Record<string, number>).reduce((a, b) => a + b, 0);
      integral += sum * (shares[index + 1].ts - shares[index].ts);
    }
    let residency = 0;
    for (const event of trace.traceEvents) if (event.ph === 'X' && event.cat === 'vcpu') residency += event.dur;
    expect(integral).toBeCloseTo(residency / SUMMARY.pcpus.length, 3);
  });

  it('every wake-up in the log is a flow that ends at the dispatch it causes (examples/io.yaml: the demo never blocks)', () => {
    const ioLog = join(dir, 'io.jsonl');
    expect(cli(['run', 'examples/io.yaml', '--quiet', '--log', ioLog]).code).toBe(0);
    const ioOut = join(dir, 'io.trace.json');
    expect(cli(['export', ioLog, '--out', ioOut]).code).toBe(0);
    const ioTrace = traceFile.parse(JSON.parse(readFileSync(ioOut, 'utf8')));
    expect(structuralProblems(ioTrace)).toEqual([]);
    const wakes = readLog(readFileSync(ioLog, 'utf8')).events.filter((event) => event.type === 'vcpu.runnable' && (event.data as { reason: string }).reason === 'wake');
    expect(wakes.length).toBeGreaterThan(0);
    const starts = ioTrace.traceEvents.filter((event) => event.ph === 's');
    expect(starts.map((event) => event.ts * 1000)).toEqual(wakes.map((event) => event.t));
    const finishes = ioTrace.traceEvents.filter((event) => event.ph === 'f');
    expect(finishes.length).toBeGreaterThanOrEqual(wakes.length - 2);
    // Each finish is at a dispatch (a vcpu.running of the woken vCPU) in the log.
    const dispatches = new Set(readLog(readFileSync(ioLog, 'utf8')).events.filter((event) => event.type === 'vcpu.running').map((event) => event.t));
    for (const finish of finishes) expect(dispatches.has(Math.round(finish.ts * 1000))).toBe(true);
  });

  it('the builder keeps no events: its state stays the same size over a long stream', () => {
    const header = readLog(readFileSync(LOG, 'utf8')).header;
    const events = readLog(readFileSync(LOG, 'utf8')).events;
    const builder = new ChromeTraceBuilder(header);
    builder.start();
    const size = () => JSON.stringify(builder, (key, value: unknown) => (value instanceof Map ? [...value.entries()] : value)).length;
    for (const event of events) builder.event(event);
    const after = size();
    for (let round = 0; round < 3; round++) for (const event of events) builder.event({ ...event, t: event.t + (round + 1) * 10_000_000 });
    expect(size()).toBeLessThan(after + 200);
  });

  it('refuses an unknown format with exit 2 and says why there is no perfetto protobuf', () => {
    const result = cli(['export', LOG, '--format', 'perfetto']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no maintained encoder package');
  });
});
