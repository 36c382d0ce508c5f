/**
 * Random scenarios for the replay properties: 1-4 VMs, each a random small guest (adversarial
 * statements as in the isolation properties) or a bundled guest that uses timers, interrupts,
 * the console, power-off, SMP (IPIs, spin locks), paging, the block device, the network and the
 * balloon; each VM with a random technique, posted interrupts, tagged TLB and device attach
 * modes; random physical CPU counts, policies, quanta, inputs and seeds, and a host that may
 * share pages, overcommit and balloon.
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
  fc.tuple(address, fc.integer()).map(([at, value]) => `movi r1, ${at}\n movi r2, ${value}\n xchg r2, [r1]`),
  fc.integer({ min: -1, max: 3 }).map((index) => `movi r2, ${index}\n out PORT_IPI_SEND, r2`),
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(0, 4, 5, 6)).map(([vcpu, line]) => `movi r2, ${vcpu * 256 + line}\n out PORT_PIC_ROUTE, r2`),
);

const program = fc.array(statement, { minLength: 1, maxLength: 12 }).map((lines) => `${lines.join('\n')}\nloop:\n work 1000\n jmp loop\n`);

const BUNDLED = ['kernel', 'ticker', 'echo', 'hello-pv', 'io-bound', 'interactive', 'cpu-bound', 'rogue-cli', 'smp-lock', 'blk-emulated', 'blk-virtio', 'net-ping', 'net-pong', 'net-ping-pv', 'balloon-guest'] as const;
/** Guests that need more memory than the others' 64 KiB (they page over 100 pages). */
const LARGE = ['tlb-heavy', 'pt-heavy'] as const;

interface GuestChoice {
  readonly guest: VmSpec['guest'];
  readonly vcpus: number;
  readonly params?: Readonly<Record<string, number>>;
  readonly memoryBytes?: number;
}

const guest: fc.Arbitrary<GuestChoice> = fc.oneof(
  program.map((source) => ({ guest: inline(source), vcpus: 1 })),
  fc.tuple(fc.constantFrom(...BUNDLED), fc.integer({ min: 1, max: 2 })).map(([name, vcpus]) => ({ guest: { kind: 'bundled', name } as const, vcpus })),
  fc.integer({ min: 2, max: 3 }).map((vcpus) => ({ guest: { kind: 'bundled', name: 'smp-ipi' } as const, vcpus, params: { VCPUS: vcpus, ROUNDS: 2, WORK_NS: 20_000, ANSWER_NS: 5_000 } })),
  fc.constantFrom(...LARGE).map((name) => ({ guest: { kind: 'bundled', name } as const, vcpus: 1, memoryBytes: 512 * 1024 })),
);

/** How a VM is virtualized: technique, posted interrupts (hw only), tagged TLB, device attach modes. */
const virtualization = fc
  .record({
    virt: fc.constantFrom('full' as const, 'para' as const, 'hw' as const, 'bt' as const),
    posted: fc.boolean(),
    tlbTagged: fc.boolean(),
    block: fc.constantFrom('emulated' as const, 'paravirtual' as const, 'passthrough' as const),
    nic: fc.constantFrom('emulated' as const, 'paravirtual' as const, 'passthrough' as const),
  })
  .map(({ virt, posted, tlbTagged, block, nic }) => ({ virt, postedInterrupts: virt === 'hw' && posted, tlbTagged, devices: { block, nic } }));

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

/** The host's memory: plenty, or overcommitted (1 MiB), with or without page sharing and ballooning. */
const hostMemory = fc.oneof(
  fc.constant({ memoryBytes: 1 << 24 }),
  fc.record({ sharing: fc.boolean(), ballooning: fc.boolean() }).map(({ sharing, ballooning }) => ({
    memoryBytes: 1 << 20,
    overcommit: true,
    ...(sharing ? { pageSharing: { intervalNs: 100_000, pagesPerScan: 32 } } : {}),
    ...(ballooning ? { ballooning: { belowFraction: 0.1, stepPages: 16, intervalNs: 200_000 } } : {}),
  })),
  fc.constant({ memoryBytes: 1 << 24, pageSharing: { intervalNs: 100_000, pagesPerScan: 32 } }),
);

export const randomRun: fc.Arbitrary<RandomRun> = fc
  .array(fc.tuple(guest, virtualization), { minLength: 1, maxLength: 4 })
  .chain((guests) =>
    fc.record({
      guests: fc.constant(guests),
      pcpus: fc.integer({ min: 1, max: 3 }),
      policy: fc.constantFrom('round-robin', 'credit'),
      quantumNs: fc.constantFrom(50_000, 200_000, 1_000_000),
      inputs: fc.array(input(guests.length), { maxLength: 4 }),
      memory: hostMemory,
      seed: fc.nat(),
    }),
  )
  .map(({ guests, pcpus, policy, quantumNs, inputs, memory, seed }) => ({
    seed,
    scenario: scenario(
      guests.map(([g, how], index) =>
        vmSpec(`g${index}`, g.guest, { vcpus: g.vcpus, memoryBytes: g.memoryBytes ?? 64 * 1024, ...(g.params === undefined ? {} : { params: g.params }), ...how }),
      ),
      {
        host: { pcpus, ...memory },
        scheduler: { policy, quantumNs },
        run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 100 },
        inputs: [...inputs].sort((a, b) => a.atNs - b.atNs),
      },
    ),
  }));
