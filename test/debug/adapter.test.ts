/**
 * `vmmsim debug` driven as an editor drives it: @vscode/debugadapter-testsupport's DebugClient
 * talks DAP over a socket to the real adapter (served in this process, as `--port` serves it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { VmmsimDebugSession } from '../../src/debug/session.js';

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    const session = new VmmsimDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

interface Session {
  readonly dc: DebugClient;
  readonly source: DebugProtocol.Source;
  readonly text: string[];
}

/** Launches a scenario, sets up what `configure` wants before configurationDone, and waits for the first stop. */
async function launch(args: Record<string, unknown>, configure: (dc: DebugClient, sources: DebugProtocol.Source[]) => Promise<void>): Promise<{ dc: DebugClient; stopped: DebugProtocol.StoppedEvent; sources: DebugProtocol.Source[] }> {
  const dc = new DebugClient('node', 'unused', 'vmmsim');
  dc.defaultTimeout = 20_000;
  await dc.start(port);
  const initialized = dc.waitForEvent('initialized');
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  const launched = dc.launch(args);
  await initialized;
  const sources = ((await dc.customRequest('loadedSources')).body as { sources: DebugProtocol.Source[] }).sources;
  await configure(dc, sources);
  await dc.configurationDoneRequest();
  await launched;
  return { dc, stopped: await stopped, sources };
}

async function sourceText(dc: DebugClient, source: DebugProtocol.Source): Promise<string[]> {
  return (await dc.sourceRequest({ source, sourceReference: source.sourceReference ?? 0 })).body.content.split('\n');
}

async function variables(dc: DebugClient, threadId: number): Promise<Record<string, string>> {
  const frame = (await dc.stackTraceRequest({ threadId })).body.stackFrames[0];
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  const out: Record<string, string> = {};
  for (const scope of scopes) for (const variable of (await dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables) out[`${scope.name}.${variable.name}`] = variable.value;
  return out;
}

const numberOf = (value: string): number => Number.parseInt(value, 10);

async function expectStop(dc: DebugClient, request: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
  await request();
  return stopped;
}

describe('vmmsim debug (DAP)', () => {
  let session: Session;
  let storeLine = 0;

  it('stops at a breakpoint on a source line of the tiny kernel, and shows pc, line, time and seq', async () => {
    let text: string[] = [];
    let source!: DebugProtocol.Source;
    const { dc, stopped } = await launch({ scenario: 'examples/demo.yaml', stopOnEntry: true }, async (client, sources) => {
      source = sources.find((candidate) => candidate.name === 'alpha: kernel.asm') as DebugProtocol.Source;
      expect(source).toBeDefined();
      text = await sourceText(client, source);
      storeLine = text.findIndex((line) => /^\s+st r2, \[ticks\]/.test(line)) + 1;
      expect(storeLine).toBeGreaterThan(0);
      const set = await client.setBreakpointsRequest({ source, breakpoints: [{ line: storeLine }] });
      expect(set.body.breakpoints[0]).toMatchObject({ verified: true, line: storeLine });
    });
    expect(stopped.body.reason).toBe('entry');
    const threads = (await dc.threadsRequest()).body.threads.map((thread) => thread.name);
    expect(threads).toEqual(['alpha/0', 'beta/0', 'pv/0', 'rogue/0']);
    const hit = await expectStop(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(hit.body.reason).toBe('breakpoint');
    expect(hit.body.threadId).toBe(1);
    expect(hit.body.description).toMatch(/t = [\d,]+ ns, seq \d+/);
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(frame.line).toBe(storeLine);
    expect(frame.source?.name).toBe('alpha: kernel.asm');
    expect(frame.name).toMatch(/^st r2, \[0x[0-9a-f]+\]/);
    session = { dc, source, text };
  });

  it('reads a register and guest memory: before the store, r2 is ticks + 1', async () => {
    const { dc } = session;
    const vars = await variables(dc, 1);
    const r2 = numberOf(vars['Registers.r2']);
    expect(vars['VM.lifecycle']).toBe('running');
    expect(vars['Simulation.seq']).toMatch(/^\d+/);
    const memory = await dc.customRequest('readMemory', { memoryReference: 'alpha:ticks', count: 4 });
    const bytes = Buffer.from((memory.body as { data: string }).data, 'base64');
    expect(bytes.length).toBe(4);
    const ticks = bytes.readInt32LE(0);
    expect(r2).toBe(ticks + 1);
    expect((await dc.evaluateRequest({ expression: 'alpha:ticks' })).body.result).toBe(`${ticks} (0x${ticks.toString(16)})`);
    const disassembly = await dc.disassembleRequest({ memoryReference: 'alpha:0', instructionCount: 2 });
    expect(disassembly.body?.instructions[0].instruction).toMatch(/^movi sp, /);
  });

  it('a data breakpoint on the tick counter, run backwards, stops at the store that last wrote it (checked against the log)', async () => {
    const { dc, source } = session;
    // Go on past a few more ticks, then look back for the last write.
    for (let count = 0; count < 3; count++) await expectStop(dc, () => dc.continueRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source, breakpoints: [] });
    const info = await dc.dataBreakpointInfoRequest({ name: 'alpha:ticks' });
    expect(info.body.accessTypes).toContain('write');
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId as string, accessType: 'write' }] });
    const here = await variables(dc, 1);
    const hit = await expectStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
    expect(hit.body.reason).toBe('data breakpoint');
    const vars = await variables(dc, 1);
    // The writer is the `st r2, [ticks]` line; the stop is right after it ran.
    const writer = numberOf(vars['Simulation.written by pc']);
    const disassembly = await dc.disassembleRequest({ memoryReference: `alpha:${writer}`, instructionCount: 1 });
    expect(disassembly.body?.instructions[0].line).toBe(storeLine);
    const value = numberOf(vars['Simulation.watched word']);
    const seq = numberOf(vars['Simulation.seq']);
    expect(seq).toBeLessThanOrEqual(numberOf(here['Simulation.seq']));
    // The log: every timer interrupt injected into alpha runs the handler once, so the counter
    // equals the number of irq.inject events of alpha's timer up to here.
    const events = (await dc.evaluateRequest({ expression: `events --type irq.inject --vm alpha --to ${seq} --limit 1000` })).body.result;
    const injected = events.split('\n').slice(1).filter((line) => line.includes('"line":0')).length;
    expect(value).toBeGreaterThan(2);
    expect(value).toBe(injected);
    // And the value just before the write was one less.
    await expectStop(dc, () => dc.stepBackRequest({ threadId: 1 }));
    expect((await dc.evaluateRequest({ expression: 'alpha:ticks' })).body.result).toBe(`${value - 1} (0x${(value - 1).toString(16)})`);
    await dc.setDataBreakpointsRequest({ breakpoints: [] });
  });

  it('stepBack ten times then next ten times comes back to the same registers and memory', async () => {
    const { dc } = session;
    const before = await variables(dc, 1);
    const digest = (await dc.evaluateRequest({ expression: 'digest' })).body.result;
    for (let count = 0; count < 10; count++) await expectStop(dc, () => dc.stepBackRequest({ threadId: 1 }));
    expect((await dc.evaluateRequest({ expression: 'digest' })).body.result).not.toBe(digest);
    for (let count = 0; count < 10; count++) await expectStop(dc, () => dc.nextRequest({ threadId: 1 }));
    expect((await dc.evaluateRequest({ expression: 'digest' })).body.result).toBe(digest);
    const after = await variables(dc, 1);
    for (const key of Object.keys(before).filter((name) => name.startsWith('Registers.') || name.startsWith('CSRs.'))) expect(after[key], key).toBe(before[key]);
    expect(after['Simulation.seq']).toBe(before['Simulation.seq']);
  });

  it('answers inspect-style queries: events by type and VM, the state at a seq', async () => {
    const { dc } = session;
    const events = (await dc.evaluateRequest({ expression: 'events --type exit.* --vm alpha --limit 3' })).body.result;
    expect(events).toMatch(/^\d+ events \(first 3\)\n/);
    expect(events.split('\n').slice(1).every((line) => /vm\/alpha\/vcpu\/0 {2}exit\./.test(line))).toBe(true);
    const state = JSON.parse((await dc.evaluateRequest({ expression: 'state at 1500' })).body.result) as { seq: number; vms: Record<string, unknown> };
    expect(state.seq).toBe(1500);
    expect(Object.keys(state.vms)).toEqual(['alpha', 'beta', 'pv', 'rogue']);
  });

  it('stops at an instruction breakpoint (VM:LABEL) and at a function breakpoint on an event type', async () => {
    const { dc } = session;
    const set = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: 'beta:timer_handler' }] });
    expect((set.body as { breakpoints: { verified: boolean }[] }).breakpoints[0].verified).toBe(true);
    const hit = await expectStop(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(hit.body.reason).toBe('instruction breakpoint');
    expect(hit.body.threadId).toBe(2);
    expect((await dc.stackTraceRequest({ threadId: 2 })).body.stackFrames[0].name).toMatch(/^csrw scratch, r1/);
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'exit.hyper*' }] });
    const halt = await expectStop(dc, () => dc.continueRequest({ threadId: 1 }));
    expect(halt.body.reason).toBe('function breakpoint');
    expect(halt.body.description).toMatch(/^exit\.hypercall \(seq \d+, vm\/pv\/vcpu\/0\)/);
    await dc.stop();
  });

  it('breaks on vm.crashed in the misbehaving example', async () => {
    const { dc, stopped } = await launch({ scenario: 'examples/misbehaving.yaml', stopOnEntry: false }, async (client) => {
      await client.setExceptionBreakpointsRequest({ filters: ['vm.crashed'] });
    });
    expect(stopped.body.reason).toBe('exception');
    expect(stopped.body.description).toMatch(/^vm\.crashed \(seq \d+, vm\/(probe|priv)\)/);
    const threadId = stopped.body.threadId as number;
    const vars = await variables(dc, threadId);
    expect(vars['VM.lifecycle']).toBe('crashed');
    await dc.stop();
  });
});

describe('the worked example of docs/debugging.md', () => {
  it('runs backwards from the crash to the bad store: the fill loop writes a fifth word over the pointer', async () => {
    const { dc, stopped } = await launch({ scenario: 'examples/debug/overrun.yaml', stopOnEntry: false }, async (client) => {
      await client.setExceptionBreakpointsRequest({ filters: ['vm.crashed'] });
    });
    expect(stopped.body.reason).toBe('exception');
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    expect(frame.source?.path).toMatch(/examples\/debug\/overrun\.asm$/);
    const text = readFileSync('examples/debug/overrun.asm', 'utf8').split('\n');
    expect(text[frame.line - 1]).toMatch(/ld r4, \[r3\]/);
    expect((await dc.evaluateRequest({ expression: 'r3', frameId: 1 })).body.result).toBe('1073676288 (0x3fff0000)');
    const info = await dc.dataBreakpointInfoRequest({ name: 'buggy:target' });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId as string, accessType: 'write' }] });
    const back = await expectStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
    expect(back.body.reason).toBe('data breakpoint');
    const vars = await variables(dc, 1);
    const writer = numberOf(vars['Simulation.written by pc']);
    const disassembly = await dc.disassembleRequest({ memoryReference: `buggy:${writer}`, instructionCount: 1 });
    expect(text[(disassembly.body?.instructions[0].line ?? 0) - 1]).toMatch(/st r5, \[r1 \+ table\]/);
    expect(numberOf(vars['Registers.r1'])).toBe(4);
    await dc.stop();
  });
});
