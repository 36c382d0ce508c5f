/**
 * `npm run bench`: the simulator's speed, each figure next to a plain-loop baseline measured in
 * the same run on the same machine, so the ratio means something wherever it is run.
 *
 *   guest instructions/s   the vCPU loop on a compute-bound guest (no exits), against a minimal
 *                          switch interpreter over the same encoding (no address translation,
 *                          no budget, no counters)
 *   exits/s end to end     an io-loop guest: exit, bus, monitor, device, resume; logging off and
 *                          on; against a plain loop of heap push/pop plus a listener call
 *   events/s               the bundled demo scenario, logging on
 *   memory per VM          heap growth for 1,000 idle VMs of 16 KiB
 *   scheduling at scale    wall time for 1 s of virtual time, 10/100/1,000 VMs on 16 pCPUs
 *
 * Options: --json (machine-readable), --quick (fewer repetitions).
 */
import { performance } from 'node:perf_hooks';
import { Simulation } from '../actors/simulation.js';
import { execute } from '../actors/vcpu/interpreter.js';
import { CpuState } from '../actors/vcpu/cpuState.js';
import { assemble } from '../core/isa/assembler.js';
import { Op, PRIVILEGED } from '../core/isa/opcodes.js';
import { LogWriter } from '../core/log/writer.js';
import { GuestPhysicalMap, HostMemory } from '../core/memory.js';
import { EventQueue } from '../core/queue.js';
import type { Scenario, VmSpec } from '../core/scenario/schema.js';
import { testScenario, vmSpec } from '../testing/scenario.js';
import { bundledGuest } from '../guests/index.js';
import { loadScenario } from '../core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { replayMeasurements } from './replay.js';
import { schedulingScaleMeasurements } from './scheduling.js';
import { formatScale, formatTargets, measureScaleBest, warmUp, type ScaleResult, type StartMode } from './scale.js';

interface Measurement {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline?: number;
  readonly baselineName?: string;
}

const args = new Set(process.argv.slice(2));
const REPEATS = args.has('--quick') ? 3 : 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `work` (which returns how many units it did) REPEATS times; median units per second. */
function rate(work: () => number): number {
  work(); // warm-up
  const rates: number[] = [];
  for (let index = 0; index < REPEATS; index++) {
    const start = performance.now();
    const units = work();
    const seconds = (performance.now() - start) / 1000;
    rates.push(units / seconds);
  }
  return median(rates);
}

// ---------------------------------------------------------------- guest instructions per second

const COMPUTE = assemble(bundledGuest('compute').source);
const INSTRUCTIONS = 20_000_000;

/** The baseline: the smallest interpreter of the same encoding. */
function baselineInterpreter(code: Int32Array, steps: number): number {
  const regs = new Int32Array(8);
  let pc = COMPUTE.entry;
  for (let step = 0; step < steps; step++) {
    const op = code[pc];
    const a = code[pc + 1];
    const b = code[pc + 2];
    const c = code[pc + 3];
    switch (op) {
      case Op.MOVI:
        regs[a & 7] = b;
        break;
      case Op.ADD:
        regs[a & 7] = regs[b & 7] + regs[c & 7];
        break;
      case Op.SUB:
        regs[a & 7] = regs[b & 7] - regs[c & 7];
        break;
      case Op.XOR:
        regs[a & 7] = regs[b & 7] ^ regs[c & 7];
        break;
      case Op.SHL:
        regs[a & 7] = regs[b & 7] << (regs[c & 7] & 31);
        break;
      case Op.ADDI:
        regs[a & 7] = regs[b & 7] + c;
        break;
      case Op.JMP:
        pc = a;
        continue;
      default:
        throw new Error(`baseline: unexpected opcode ${op}`);
    }
    pc += 4;
  }
  return regs[1];
}

function guestInstructions(): Measurement {
  const code = new Int32Array(4096);
  code.set(COMPUTE.words);
  const baseline = rate(() => {
    baselineInterpreter(code, INSTRUCTIONS);
    return INSTRUCTIONS;
  });
  const host = new HostMemory(4);
  const memory = new GuestPhysicalMap(host, host.allocate(4, 'bench'));
  memory.load(COMPUTE.words);
  const cpu = new CpuState();
  const value = rate(() => {
    const before = cpu.retired;
    execute(cpu, host.words, memory.pageBase, memory.writeBase, INSTRUCTIONS, 1, PRIVILEGED);
    return cpu.retired - before;
  });
  return { name: 'guest instructions in the vCPU loop', unit: 'instr/s', value, baseline, baselineName: 'minimal switch interpreter' };
}

// ---------------------------------------------------------------- exits per second

function vm(name: string, guest: string, overrides: Partial<VmSpec> = {}): VmSpec {
  return vmSpec(name, { kind: 'bundled', name: guest }, { memoryBytes: 16 * 1024, ...overrides });
}

function scenario(vms: VmSpec[], timeNs: number): Scenario {
  return testScenario(vms, {
    name: 'bench',
    host: { pcpus: 1, memoryBytes: 1 << 30 },
    run: { timeNs, instructions: undefined, checkpointEvery: 100_000 },
  });
}

function exitsPerSecond(logging: boolean): number {
  return rate(() => {
    let bytes = 0;
    const log = logging ? new LogWriter((chunk) => (bytes += chunk.length)) : undefined;
    const simulation = new Simulation({ scenario: scenario([vm('io', 'io-loop')], 300_000_000), log });
    const summary = simulation.run();
    if (logging && bytes === 0) throw new Error('no log written');
    return summary.vms[0].vcpus[0].exitsTotal;
  });
}

function baselineEventLoop(): number {
  const count = 1_000_000;
  return rate(() => {
    const queue = new EventQueue();
    const listeners: ((value: number) => void)[] = [];
    let sum = 0;
    listeners.push((value) => (sum += value));
    queue.push({ time: 0, seq: 0, target: 0, kind: 0, arg: 0 });
    for (let index = 1; index <= count; index++) {
      const entry = queue.pop() as { time: number };
      for (const listener of listeners) listener(entry.time);
      queue.push({ time: entry.time + 3, seq: index, target: 0, kind: 0, arg: 0 });
    }
    if (sum < 0) throw new Error('unreachable');
    return count;
  });
}

// ---------------------------------------------------------------- events per second (demo)

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function demoEvents(): Measurement {
  const text = readFileSync(resolve(ROOT, 'examples', 'demo.yaml'), 'utf8');
  const demo = loadScenario(text, { file: 'demo.yaml', guests: BUNDLED_GUEST_NAMES });
  const value = rate(() => {
    const log = new LogWriter(() => {});
    return new Simulation({ scenario: demo, log }).run().events;
  });
  return { name: 'events, bundled demo, logging on', unit: 'events/s', value };
}

// ---------------------------------------------------------------- memory per VM

function memoryPerVm(): Measurement {
  const count = 1000;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const vms = Array.from({ length: count }, (_, index) => vm(`vm${index}`, 'compute'));
  const simulation = new Simulation({ scenario: scenario(vms, 1) });
  gc?.();
  const after = process.memoryUsage();
  const bytes = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / count;
  if (simulation.vms.length !== count) throw new Error('VMs missing');
  return { name: `memory per VM (16 KiB guest RAM, ${gc ? 'after GC' : 'no --expose-gc'})`, unit: 'bytes', value: bytes };
}

// ---------------------------------------------------------------- report

function main(): void {
  const results: Measurement[] = [];
  results.push(guestInstructions());
  const loopBaseline = baselineEventLoop();
  results.push({ name: 'exits end to end, logging off', unit: 'exits/s', value: exitsPerSecond(false), baseline: loopBaseline, baselineName: 'heap push/pop + listener call' });
  results.push({ name: 'exits end to end, logging on', unit: 'exits/s', value: exitsPerSecond(true), baseline: loopBaseline, baselineName: 'heap push/pop + listener call' });
  results.push(demoEvents());
  results.push(memoryPerVm());
  results.push(...replayMeasurements(args.has('--quick'), REPEATS));
  results.push(...schedulingScaleMeasurements(args.has('--quick')));

  if (args.has('--json')) {
    process.stdout.write(JSON.stringify({ node: process.version, repeats: REPEATS, results }, null, 2) + '\n');
    return;
  }
  const format = (value: number) => (value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)} k` : value.toFixed(0));
  process.stdout.write(`vmmsim bench (node ${process.version}, median of ${REPEATS})\n\n`);
  for (const result of results) {
    let line = `${result.name.padEnd(52)} ${format(result.value).padStart(9)} ${result.unit}`;
    if (result.baseline !== undefined) {
      line += `   baseline ${format(result.baseline)} ${result.unit} (${result.baselineName}), ratio ${(result.baseline / result.value).toFixed(2)}x`;
    }
    process.stdout.write(line + '\n');
  }
  // The engine at research scale (issue 13), beside SimGrid 3.32's figures for the same load.
  process.stdout.write('\nengine at scale: N VMs x 500 phases (1 ms work, 1 ms timer sleep), 16 pCPUs, round-robin 1 ms, logging off\n');
  const counts = args.has('--quick') ? [10, 100] : args.has('--huge') ? [10, 100, 1000, 10_000] : [10, 100, 1000];
  warmUp();
  const scale: ScaleResult[] = [];
  const measure = (count: number, start: StartMode, logging = false) => {
    const result = measureScaleBest(count, start, logging);
    scale.push(result);
    process.stdout.write(formatScale(result) + '\n');
  };
  for (const count of counts) for (const start of ['staggered', 'aligned'] as StartMode[]) measure(count, start);
  measure(args.has('--quick') ? 100 : 1000, 'aligned', true);
  for (const line of formatTargets(scale)) process.stdout.write(line + '\n');
}

main();
