import { describe, expect, it } from 'vitest';
import { LogWriter } from '../../src/core/log/writer.js';
import { LogError, readLog } from '../../src/core/log/reader.js';
import type { SimEvent } from '../../src/core/events.js';
import { XxhChain } from '../../src/core/log/chain.js';

function sampleLog(): string {
  let text = '';
  const writer = new LogWriter((chunk) => (text += chunk), 64);
  writer.writeHeader({ engine: '0.1.0', seed: 7, scenario: { name: 'x' } });
  const events: SimEvent[] = [
    { seq: 0, t: 0, src: 'vm/a', type: 'vm.started', data: {} },
    { seq: 1, t: 10, src: 'vm/a/console', type: 'console.output', data: { text: 'hi "there"' } },
  ];
  writer.append(events[0]);
  writer.checkpoint(1, 5, { a: 1 });
  writer.append(events[1]);
  writer.close(20);
  return text;
}

describe('event log', () => {
  it('writes a header, events, checkpoints and a closing line that read back', () => {
    const text = sampleLog();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0])).toMatchObject({ format: 'vmmsim-log', version: 2, seed: 7 });
    const log = readLog(text, 'a.jsonl');
    expect(log.events.map((event) => event.type)).toEqual(['vm.started', 'console.output']);
    expect(log.events[1].data).toEqual({ text: 'hi "there"' });
    expect(log.checkpoints).toHaveLength(1);
    expect(log.end).toMatchObject({ events: 2, t: 20 });
    expect(log.warnings).toEqual([]);
  });

  it('names the line when a byte of an event is changed', () => {
    const text = sampleLog().replace('"t":10', '"t":11');
    expect(() => readLog(text, 'a.jsonl')).toThrow(LogError);
    expect(() => readLog(text, 'a.jsonl')).toThrow('a.jsonl:4: checksum mismatch: this line was changed');
    const header = sampleLog().replace('"seed":7', '"seed":8');
    expect(() => readLog(header, 'a.jsonl')).toThrow('a.jsonl:1: checksum mismatch');
  });

  it('ends every line with its checksum, chained over the lines before', () => {
    const lines = sampleLog().trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/,"h":"[0-9a-f]{8}"\}$/);
    // The same event after a different header has a different checksum.
    let other = '';
    const writer = new LogWriter((chunk) => (other += chunk));
    writer.writeHeader({ engine: '0.1.0', seed: 8, scenario: { name: 'x' } });
    writer.append({ seq: 0, t: 0, src: 'vm/a', type: 'vm.started', data: {} });
    writer.flush();
    expect(other.split('\n')[1].slice(0, -16)).toBe(lines[1].slice(0, -16));
    expect(other.split('\n')[1]).not.toBe(lines[1]);
  });

  it('reads a truncated log up to its last whole line and says where it ends', () => {
    const text = sampleLog();
    const cut = text.slice(0, text.indexOf('console.output') + 5);
    const log = readLog(cut, 'cut.jsonl');
    expect(log.events).toHaveLength(1);
    expect(log.end).toBeUndefined();
    expect(log.warnings[0]).toMatch(/cut\.jsonl:4: the log ends inside line 4/);
  });

  it('rejects a line that is not JSON, an unknown event type and a header from the future', () => {
    const text = sampleLog();
    const lines = text.split('\n');
    expect(() => readLog([lines[0], 'nope', ''].join('\n'), 'f')).toThrow('f:2: not a JSON line');
    expect(() => readLog([lines[0], '{"seq":0}', ''].join('\n'), 'f')).toThrow('f:2: line has no checksum');
    const resealed = (bases: string[]) => {
      const chain = new XxhChain();
      return bases.map((base) => `${base.slice(0, -1)},"h":"${chain.add(base)}"}`).join('\n') + '\n';
    };
    const base = (line: string) => line.slice(0, -16) + '}';
    expect(() => readLog(resealed([base(lines[0]), base(lines[1]).replace('vm.started', 'vm.exploded')]), 'f')).toThrow(
      'f:2: unknown event type "vm.exploded"',
    );
    expect(() => readLog(resealed([base(lines[0]).replace('"version":2', '"version":99')]), 'f')).toThrow(/f:1: log format version 99/);
    for (const bad of ['0', '-1', '1.5', '"2"', 'null']) {
      expect(() => readLog(resealed([base(lines[0]).replace('"version":2', `"version":${bad}`)]), 'f')).toThrow(`f:1: log format version ${bad}: expected an integer from 1 to 2`);
    }
    expect(() => readLog(resealed([base(lines[0]).replace('"version":2,', '')]), 'f')).toThrow('f:1: log format version missing: expected an integer from 1 to 2');
  });
});

describe('hand-written serialisers', () => {
  it('produce exactly what JSON.stringify produces, for every event a real run emits', async () => {
    const { HAND_SERIALIZED_TYPES, serializeData } = await import('../../src/core/log/serialize.js');
    const { runProgram } = await import('../helpers.js');
    const run = runProgram(`
      movi r1, ivt
      csrw ivt, r1
      movi r1, 20000
      out PORT_TIMER_PERIOD, r1
      sti
      ld r2, [MMIO_CONSOLE_STATUS]
      hypercall HC_VERSION
      in r3, PORT_CONSOLE_STATUS
    idle:
      hlt
      jmp idle
    tick:
      movi r1, IRQ_TIMER
      out PORT_PIC_EOI, r1
      iret
    ivt: .space VEC_IRQ_BASE
      .word tick
    `, {}, { run: { timeNs: 200_000, instructions: undefined, checkpointEvery: 10_000 } });
    const seen = new Set<string>();
    for (const event of run.events) {
      expect(serializeData(event)).toBe(JSON.stringify(event.data));
      seen.add(event.type);
    }
    const covered = HAND_SERIALIZED_TYPES.filter((type) => seen.has(type));
    expect(covered.length).toBeGreaterThanOrEqual(9);
    // The variants a short run does not make: a host process's preemption, an exception record.
    const made = [
      { type: 'exit.preempt', data: { pc: 4, pcpu: 1, ranNs: 300, by: 'host' } },
      { type: 'exit.preempt', data: { pc: 4, pcpu: 1, ranNs: 300 } },
      { type: 'exit.exception', data: { pc: 8, vector: 3, mode: 'user', code: 1, resumePc: 12 } },
      { type: 'exit.mmio', data: { pc: 8, addr: 64, dir: 'read', value: null, reg: 2 } },
      { type: 'pcpu.idle', data: { pcpu: 3 } },
      { type: 'pcpu.idle', data: { pcpu: 3, host: 'h"1\\' } },
      { type: 'vm.blocked', data: {} },
      { type: 'vm.unblocked', data: {} },
      { type: 'vcpu.blocked', data: { pc: 12 } },
      { type: 'timer.armed', data: { mode: 'off', ns: 0 } },
    ];
    for (const event of made) expect(serializeData({ seq: 0, t: 0, src: 'vm/a/vcpu/0', ...event } as never)).toBe(JSON.stringify(event.data));
  });
});

describe('the writer writes exactly the reference line', () => {
  // The reference: each line is JSON.stringify's text of the event, sealed with the running hash
  // (the format event-log.md describes). The writer builds ASCII lines as bytes and any other line
  // as a string; both must give these bytes, in order, whatever the chunk size.
  function reference(events: readonly SimEvent[]): string {
    const chain = new XxhChain();
    return events
      .map((event) => {
        const text = JSON.stringify({ seq: event.seq, t: event.t, src: event.src, type: event.type, data: event.data });
        return `${text.slice(0, -1)},"h":"${chain.add(text)}"}\n`;
      })
      .join('');
  }

  it('for events with sources beyond ASCII, quotes, control characters, lone surrogates and odd times', async () => {
    const fc = (await import('fast-check')).default;
    const source = fc.oneof(
      fc.constantFrom('vm/a/vcpu/0', 'vm/web/timer', 'pcpu/3', 'vm/café/console', 'vm/a"b\\c/pic', 'vm/\u0001/x', 'vm/\ud800/x', 'vm/😀/nic'),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    const event = fc.record({
      t: fc.oneof(fc.nat(), fc.constant(2 ** 53 + 2), fc.constant(1.5), fc.constant(1e21)),
      src: source,
      kind: fc.integer({ min: 0, max: 13 }),
      n: fc.integer({ min: -5, max: 100_000 }),
      // Numbers JSON writes in other forms than digits: a sign, a fraction, an exponent, -0.
      x: fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.constantFrom(2 ** 53 + 2, 1.5, 1e21, -0, -(2 ** 31))),
      flag: fc.boolean(),
      word: fc.constantFrom('in', 'out', 'kernel', 'user', 'host', 'wake', 'oneshot', 'csrr'),
      text: fc.string({ unit: 'binary', maxLength: 8 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), (specs, chunkChars) => {
        const events: SimEvent[] = specs.map((spec, seq) => {
          // Every type the writer writes field by field (LogWriter.data), and two it does not.
          const variants = [
            { type: 'exit.io', data: { pc: spec.n, port: 64, dir: 'out', value: spec.x, reg: null } },
            { type: 'pcpu.idle', data: { pcpu: spec.n, host: spec.text } },
            { type: 'console.output', data: { text: spec.text } },
            { type: 'vm.blocked', data: {} },
            { type: 'exit.io', data: { pc: spec.x, port: spec.n, dir: spec.word, value: null, reg: spec.n } },
            { type: 'exit.hlt', data: { pc: spec.x, ie: spec.flag } },
            { type: 'exit.privileged', data: { pc: spec.n, op: spec.word, mode: spec.word } },
            { type: 'exit.preempt', data: spec.flag ? { pc: spec.n, pcpu: spec.x, ranNs: spec.x, by: spec.word } : { pc: spec.n, pcpu: spec.n, ranNs: spec.x } },
            { type: 'exit.interrupt', data: { pc: spec.x, line: spec.n } },
            { type: spec.flag ? 'irq.raise' : 'irq.eoi', data: { line: spec.x } },
            { type: 'irq.inject', data: { vector: spec.n, line: spec.x } },
            { type: spec.flag ? 'vcpu.running' : 'vcpu.blocked', data: spec.flag ? { pcpu: spec.x } : { pc: spec.x } },
            { type: spec.flag ? 'vcpu.runnable' : 'vm.unblocked', data: spec.flag ? { reason: spec.word } : {} },
            { type: 'timer.armed', data: { mode: spec.word, ns: spec.x } },
          ];
          const data = variants[spec.kind];
          return { seq, t: spec.t, src: spec.src, ...data } as SimEvent;
        });
        let text = '';
        const writer = new LogWriter((chunk) => (text += chunk), chunkChars);
        for (const item of events) writer.append(item);
        writer.flush();
        expect(text).toBe(reference(events));
      }),
      { numRuns: 500 },
    );
  });
});
