/**
 * Random scenarios for the replay properties: 1-4 VMs, each a random small guest (adversarial
 * statements as in the isolation properties) or a bundled guest that uses timers, interrupts,
 * the console and power-off; random physical CPU counts, policies, quanta, inputs and seeds.
 */
import fc from 'fast-check';
import type { InputSpec } from '../../src/core/scenario/inputs.js';
import type { Scenario, VmSpec } from '../../src/core/scenario/schema.js';
import { PAGE_WORDS } from '../../src/core/platform.js';
import { inline, scenario, vmSpec } from '../helpers.js';

const OWN_WORDS = (16 * 1024) / 4;

const address = fc.oneof(
  fc.integer({ min: 0, max: OWN_WORDS - 1 }),
  fc.integer({ min: OWN_WORDS, max: OWN_WORDS + 4 * PAGE_WORDS }),
  fc.integer({ min: 0x4000_0000, max: 0x4000_0010 }),
);

const statement = fc.oneof(
  fc.tuple(address, fc.integer()).map(([at, value]) => `movi r1, ${at}\n movi r2, ${value}\n st r2, [r1]`),
  address.map((at) => `movi r1, ${at}\n ld r3, [r1]`),
  fc.tuple(fc.integer({ min: 0, max: 0x20 }), fc.integer({ min: 0, max: 200_000 })).map(([port, value]) => `movi r2, ${value}\n out ${port}, r2`),
  fc.integer({ min: 0, max: 0x20 }).map((port) => `in r4, ${port}`),
  fc.constantFrom('cli', 'sti', 'hlt', 'iret', 'csrw ivt, r2', 'syscall 1', 'hypercall 3', 'hypercall 1', 'work 5000', 'div r1, r1, r0', 'movi r1, 65\n hypercall HC_CONSOLE_PUTC'),
);

const program = fc.array(statement, { minLength: 1, maxLength: 12 }).map((lines) => `${lines.join('\n')}\nloop:\n work 1000\n jmp loop\n`);

const BUNDLED = ['kernel', 'ticker', 'echo', 'hello-pv', 'io-bound', 'interactive', 'cpu-bound', 'rogue-cli'] as const;

const guest: fc.Arbitrary<{ guest: VmSpec['guest']; vcpus: number }> = fc.oneof(
  program.map((source) => ({ guest: inline(source), vcpus: 1 })),
  fc.tuple(fc.constantFrom(...BUNDLED), fc.integer({ min: 1, max: 2 })).map(([name, vcpus]) => ({ guest: { kind: 'bundled', name } as const, vcpus })),
);

function input(vms: number): fc.Arbitrary<InputSpec> {
  const at = fc.integer({ min: 0, max: 1_500_000 });
  const vm = fc.integer({ min: 0, max: vms - 1 }).map((index) => `g${index}`);
  return fc.oneof(
    fc.tuple(at, vm, fc.constantFrom('hi\n', 'off\n', 'x')).map(([atNs, name, text]): InputSpec => ({ kind: 'console', atNs, vm: name, text })),
    fc.tuple(at, vm, fc.constantFrom('device-error', 'device-reset'), fc.constantFrom('console', 'timer')).map(
      ([atNs, name, kind, device]): InputSpec => ({ kind: kind as 'device-error' | 'device-reset', atNs, vm: name, device: device as 'console' | 'timer' }),
    ),
    fc.tuple(at, vm, fc.integer({ min: 1_000, max: 300_000 })).map(([atNs, name, durationNs]): InputSpec => ({ kind: 'vcpu-stall', atNs, vm: name, vcpu: 0, durationNs })),
  );
}

export interface RandomRun {
  readonly scenario: Scenario;
  readonly seed: number;
}

export const randomRun: fc.Arbitrary<RandomRun> = fc
  .array(guest, { minLength: 1, maxLength: 4 })
  .chain((guests) =>
    fc.record({
      guests: fc.constant(guests),
      pcpus: fc.integer({ min: 1, max: 3 }),
      policy: fc.constantFrom('round-robin', 'credit'),
      quantumNs: fc.constantFrom(50_000, 200_000, 1_000_000),
      inputs: fc.array(input(guests.length), { maxLength: 4 }),
      seed: fc.nat(),
    }),
  )
  .map(({ guests, pcpus, policy, quantumNs, inputs, seed }) => ({
    seed,
    scenario: scenario(
      guests.map((g, index) => vmSpec(`g${index}`, g.guest, { vcpus: g.vcpus, memoryBytes: 64 * 1024 })),
      {
        host: { pcpus, memoryBytes: 1 << 24 },
        scheduler: { policy, quantumNs },
        run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 100 },
        inputs: [...inputs].sort((a, b) => a.atNs - b.atNs),
      },
    ),
  }));
