/**
 * Properties checked from outside the monitor, over random guests: memory isolation (no guest
 * write reaches a frame it does not own), containment (a misbehaving guest crashes only its own
 * VM), and determinism (same scenario and seed, same log).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulation } from '../../src/actors/simulation.js';
import { PAGE_WORDS } from '../../src/core/platform.js';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

const OWN_WORDS = 16 * 1024 / 4;

/** An address an adversary might aim at: its own memory, just past it, far away, negative, MMIO. */
const address = fc.oneof(
  fc.integer({ min: 0, max: OWN_WORDS - 1 }),
  fc.integer({ min: OWN_WORDS, max: OWN_WORDS + 4 * PAGE_WORDS }),
  fc.integer({ min: 0, max: 0x7fff_ffff }),
  fc.integer({ min: -0x8000_0000, max: -1 }),
  fc.integer({ min: 0x4000_0000, max: 0x4000_0010 }),
);

/** One adversarial statement, as assembly text. */
const statement = fc.oneof(
  fc.tuple(address, fc.integer()).map(([at, value]) => `movi r1, ${at}\n movi r2, ${value}\n st r2, [r1]`),
  address.map((at) => `movi r1, ${at}\n ld r3, [r1]`),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer()).map(([port, value]) => `movi r2, ${value}\n out ${port}, r2`),
  fc.integer({ min: 0, max: 0xffff }).map((port) => `in r4, ${port}`),
  fc.constantFrom('cli', 'sti', 'hlt', 'iret', 'csrw ivt, r2', 'csrw epc, r1', 'syscall 1', 'hypercall 3', 'work 5000', 'movi sp, 3\n push r1', 'div r1, r1, r0'),
  address.map((at) => `movi r5, ${at}\n movi r6, ${at + 1}\n st r6, [r5 + 1]`),
);

const adversary = fc.array(statement, { minLength: 1, maxLength: 25 }).map((lines) => `${lines.join('\n')}\nloop:\n work 1000\n jmp loop\n`);

const VICTIM = `
loop:
  work 10000
  jmp loop
data: .word 0x11111111, 0x22222222, 0x33333333
`;

describe('isolation properties', () => {
  it('no guest write ever changes a frame another VM owns', () => {
    fc.assert(
      fc.property(adversary, fc.boolean(), (program, victimRuns) => {
        const simulation = new Simulation({
          scenario: scenario(
            [
              vmSpec('victim', inline(VICTIM), { memoryBytes: 16 * 1024, autostart: victimRuns }),
              vmSpec('adversary', inline(program), { memoryBytes: 16 * 1024 }),
              vmSpec('bystander', inline(VICTIM), { memoryBytes: 16 * 1024, autostart: false }),
            ],
            { run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 10_000 } },
          ),
        });
        const host = simulation.host.memory;
        const before = Int32Array.from(host.words);
        simulation.run();
        const adversaryVm = simulation.vms[1];
        const owned = new Set<number>();
        for (let page = 0; page < adversaryVm.memory.pageCount; page++) owned.add(adversaryVm.memory.pageBase[page] / PAGE_WORDS);
        for (let frame = 0; frame < host.frameCount; frame++) {
          if (owned.has(frame)) continue;
          if (victimRuns && host.ownerOf(frame) === 'vm/victim') continue;
          const start = frame * PAGE_WORDS;
          for (let offset = 0; offset < PAGE_WORDS; offset++) {
            if (host.words[start + offset] !== before[start + offset]) {
              throw new Error(`frame ${frame} (${host.ownerOf(frame)}) word ${offset} changed`);
            }
          }
        }
        // A misbehaving guest ends crashed (or keeps running); never another VM.
        expect(simulation.vms[0].state).toBe(victimRuns ? 'running' : 'defined');
        expect(simulation.vms[2].state).toBe('defined');
      }),
      { numRuns: 150 },
    );
  });

  it('a victim computes the same result beside any adversary as beside a quiet guest', () => {
    const victim = `
      movi r1, 0
      movi r2, 0
      movi r3, 2000
    sum:
      add r2, r2, r1
      st r2, [r1 + 3000]
      addi r1, r1, 1
      blt r1, r3, sum
      mov r1, r2
      hypercall HC_CONSOLE_PUTC
      out PORT_POWER, r0
    `;
    const resultBeside = (neighbour: string, seed: number) => {
      const run = runScenario(
        scenario([vmSpec('victim', inline(victim)), vmSpec('neighbour', inline(neighbour))], {
          run: { timeNs: 20_000_000, instructions: undefined, checkpointEvery: 10_000 },
          scheduler: { policy: 'round-robin', quantumNs: 50_000 },
        }),
        seed,
      );
      const vm = run.simulation.vms[0];
      return { state: vm.state, console: vm.console.transcript, digest: vm.memoryDigest() };
    };
    const quiet = resultBeside('loop: work 1000\n jmp loop', 1);
    expect(quiet.state).toBe('shutoff');
    fc.assert(
      fc.property(adversary, fc.nat(), (program, seed) => {
        expect(resultBeside(program, seed)).toEqual(quiet);
      }),
      { numRuns: 60 },
    );
  });

  it('the same scenario and seed give the same log, whatever the guests', () => {
    fc.assert(
      fc.property(fc.array(adversary, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (programs, pcpus, seed) => {
        const build = () =>
          scenario(
            programs.map((program, index) => vmSpec(`g${index}`, inline(program), { memoryBytes: 16 * 1024 })),
            { host: { pcpus, memoryBytes: 1 << 24 }, run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 200 } },
          );
        expect(runScenario(build(), seed).log).toBe(runScenario(build(), seed).log);
      }),
      { numRuns: 40 },
    );
  });
});
