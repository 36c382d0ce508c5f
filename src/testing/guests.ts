/**
 * fast-check arbitraries for guest programs, as assembly text (docs/isa.md):
 *
 * - `adversarialGuest`: probes memory outside its own (just past the end, far away, negative,
 *   MMIO), runs privileged instructions in kernel and user mode, hammers I/O ports (its own
 *   devices, ports nobody claims), programs DMA at foreign addresses, floods interrupts (a timer at
 *   the minimum period with a handler that acknowledges them), and ends in a loop that never stops;
 * - `victimGuest`: a well-behaved guest whose observable behaviour does not depend on timing: it
 *   computes over several time slices, writes its results to memory and its console, counts any
 *   interrupt it receives (it programs none) and powers off;
 * - `trapGuest`: a guest kernel that drops to user mode and runs random user code full of
 *   sensitive instructions, syscalls and faults, which its handlers count and skip; its result
 *   does not depend on timing either (for equivalence and trap completeness);
 * - `quietGuest`: computes forever, touching nothing.
 *
 * Every statement is a small block of text so that shrinking removes whole statements.
 */
import fc from 'fast-check';
import { PAGE_WORDS } from '../core/platform.js';

/** The memory the generated guests get, in words (64 KiB). */
export const GUEST_WORDS = (64 * 1024) / 4;

/** A guest that only computes, forever: no stores, no I/O, interrupts off. */
export const quietGuest = 'quiet:\n  work 1000\n  jmp quiet\n';

/** An address an adversary aims at: its own memory, just past it, far away, negative, MMIO. */
export function adversaryAddress(ownWords = GUEST_WORDS): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: 0, max: ownWords - 1 }),
    fc.integer({ min: ownWords, max: ownWords + 4 * PAGE_WORDS - 1 }),
    fc.integer({ min: 0, max: 1 << 20 }),
    fc.integer({ min: 0, max: 0x7fff_ffff }),
    fc.integer({ min: -0x8000_0000, max: -1 }),
    fc.integer({ min: 0x4000_0000, max: 0x4000_0010 }),
  );
}

/** An address just past the VM's memory, or anywhere in a small host's memory. */
function foreignAddress(ownWords: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: ownWords, max: ownWords + 4 * PAGE_WORDS - 1 }), fc.integer({ min: 0, max: 1 << 19 }));
}

/** Ports an adversary hammers: its own devices' (DMA included) and some nobody claims. */
export const adversaryPort: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0x20, 0x21, 0x22, 0x40, 0x41, 0x42, 0x3f8, 0x3f9, 0x80, 0x81, 0x82, 0x83),
  fc.integer({ min: 0, max: 0xffff }),
);

const SENSITIVE = ['cli', 'sti', 'iret', 'hlt', 'in r4, PORT_TIMER_NOW', 'out PORT_PIC_MASK, r0', 'csrr r4, cause', 'csrw scratch, r2', 'inr r4, r2', 'outr r2, r2'];

/** The emulated block device's read (command 1) or write (2) of `sector` from or to guest-physical `buffer` (its three registers). */
const blockCommand = (sector: number, buffer: number, command = 1): string =>
  `  movi r1, ${sector}\n  out PORT_BLK_SECTOR, r1\n  movi r1, ${buffer}\n  out PORT_BLK_BUFFER, r1\n  movi r1, ${command}\n  out PORT_BLK_COMMAND, r1`;
const blockRead = (sector: number, buffer: number): string => blockCommand(sector, buffer, 1);

/** One adversarial statement (a few lines of assembly). `label` makes its labels unique. */
function adversaryStatement(ownWords: number): fc.Arbitrary<(label: string) => string> {
  const address = adversaryAddress(ownWords);
  // DMA from its own memory to anywhere, most often somewhere it does not own.
  const dma =
    fc.tuple(fc.integer({ min: 0, max: 63 }), fc.oneof(address, foreignAddress(ownWords)), fc.integer({ min: 1, max: 64 })).map(
      ([from, to, words]) => () =>
        `  movi r1, ${from}\n  out PORT_DMA_SOURCE, r1\n  movi r1, ${to}\n  out PORT_DMA_DESTINATION, r1\n  movi r1, ${words}\n  out PORT_DMA_LENGTH, r1\n  out PORT_DMA_GO, r1`,
    );
  // The block device reads a sector into a buffer anywhere (emulated: the monitor's device model
  // checks it; passthrough: the IOMMU does).
  const blockDma = fc.tuple(fc.integer({ min: 0, max: 130 }), fc.oneof(address, foreignAddress(ownWords))).map(
    ([sector, buffer]) => () => blockRead(sector, buffer),
  );
  // ... and writes a sector of its own disk from a buffer anywhere (which must change no other
  // VM's disk, and read no memory it does not own).
  const blockWrite = fc.tuple(fc.integer({ min: 0, max: 130 }), fc.oneof(address, foreignAddress(ownWords))).map(
    ([sector, buffer]) => () => blockCommand(sector, buffer, 2),
  );
  return fc.oneof(
    { weight: 2, arbitrary: blockDma },
    blockWrite,
    fc.tuple(address, fc.integer()).map(([at, value]) => () => `  movi r1, ${at}\n  movi r2, ${value}\n  st r2, [r1]`),
    address.map((at) => () => `  movi r1, ${at}\n  ld r3, [r1]`),
    address.map((at) => () => `  movi r5, ${at}\n  movi r6, ${at + 1}\n  st r6, [r5 + 1]`),
    // An atomic swap: a read and a write in one instruction, anywhere.
    fc.tuple(address, fc.integer()).map(([at, value]) => () => `  movi r1, ${at}\n  movi r2, ${value}\n  xchg r2, [r1]`),
    // An inter-processor interrupt to any vCPU index: it can only reach the adversary's own VM.
    fc.integer({ min: -2, max: 9 }).map((index) => () => `  movi r2, ${index}\n  out PORT_IPI_SEND, r2`),
    fc.tuple(adversaryPort, fc.integer()).map(([port, value]) => () => `  movi r2, ${value}\n  out ${port}, r2`),
    adversaryPort.map((port) => () => `  in r4, ${port}`),
    { weight: 3, arbitrary: dma },
    // Flood interrupts: the timer at its minimum period (the handler acknowledges each one).
    fc.constantFrom(() => '  movi r2, 1\n  out PORT_TIMER_PERIOD, r2\n  sti'),
    fc.constantFrom(...SENSITIVE).map((line) => () => `  ${line}`),
    fc.constantFrom('syscall 1', 'hypercall 3', 'hypercall 1', 'hypercall 99', 'work 5000', 'div r1, r1, r0', 'movi sp, 3\n  push r1').map((line) => () => `  ${line}`),
    // Drop to user mode (with interrupts on or off): what follows runs deprivileged.
    fc.boolean().map((ie) => (label: string) => `  movi r1, ${label}_user\n  csrw epc, r1\n  movi r1, ${ie ? 3 : 1}\n  csrw estatus, r1\n  iret\n${label}_user:`),
  );
}

/**
 * A guest that hammers device ports forever (its own devices: whether a write reaches only them
 * is what the resource-control property checks), with interrupts off.
 */
export const hammerGuest: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(0x40, 0x41),
    fc.array(fc.tuple(fc.constantFrom(0x20, 0x21, 0x40, 0x41, 0x3f8, 0x80, 0x81, 0x82, 0x83), fc.integer({ min: 0, max: 100_000 })), { maxLength: 3 }),
  )
  .map(([timer, writes]) =>
    ['hammer:', `  movi r2, 50000\n  out ${timer}, r2`, ...writes.map(([port, value]) => `  movi r2, ${value}\n  out ${port}, r2`), '  work 2000', '  jmp hammer', ''].join('\n'),
  );

/**
 * A guest whose block device reads sectors into buffers it does not own (just past its end, far
 * away, negative), waiting for each read to complete: the device's DMA must be refused (emulated)
 * or blocked by the IOMMU (passthrough), never land.
 */
export function blockProber(ownWords = GUEST_WORDS): fc.Arbitrary<string> {
  const target = fc.oneof(fc.integer({ min: ownWords - 64, max: ownWords + 4 * PAGE_WORDS - 1 }), fc.integer({ min: -(1 << 20), max: 1 << 20 }));
  // Reads into buffers anywhere; writes of its own disk's sectors from its own memory (which must
  // change no other VM's disk).
  const read = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 127 }), target).map(([sector, buffer]) => `${blockRead(sector, buffer)}\n  work 150000`) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: ownWords - 64 })).map(([sector, buffer]) => `${blockCommand(sector, buffer, 2)}\n  work 150000`) },
  );
  return fc.array(read, { minLength: 1, maxLength: 5 }).map((lines) => ['_start:', ...lines, 'forever:\n  work 1000\n  jmp forever', ''].join('\n'));
}

/**
 * A guest that probes memory it does not own: stores just past its end (most often), far away
 * or at negative addresses, a stack pushed from past its end, and DMA aimed at foreign memory.
 */
export function memoryProber(ownWords = GUEST_WORDS): fc.Arbitrary<string> {
  const past = fc.integer({ min: ownWords, max: ownWords + 4 * PAGE_WORDS - 1 });
  const statement = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(past, fc.integer()).map(([at, value]) => `  movi r1, ${at}\n  movi r2, ${value}\n  st r2, [r1]`) },
    { weight: 1, arbitrary: fc.tuple(adversaryAddress(ownWords), fc.integer()).map(([at, value]) => `  movi r1, ${at}\n  movi r2, ${value}\n  st r2, [r1]`) },
    { weight: 1, arbitrary: past.map((at) => `  movi sp, ${at + 1}\n  push r1`) },
    { weight: 1, arbitrary: past.map((at) => `  movi r1, ${at}\n  xchg r2, [r1]`) },
    { weight: 1, arbitrary: past.map((at) => `  ld r3, [${at}]`) },
    {
      weight: 6,
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 63 }), foreignAddress(ownWords), fc.integer({ min: 1, max: 64 })).map(
        ([from, to, words]) =>
          `  movi r1, ${from}\n  out PORT_DMA_SOURCE, r1\n  movi r1, ${to}\n  out PORT_DMA_DESTINATION, r1\n  movi r1, ${words}\n  out PORT_DMA_LENGTH, r1\n  out PORT_DMA_GO, r1`,
      ),
    },
  );
  return fc.array(statement, { minLength: 1, maxLength: 8 }).map((lines) => ['_start:', ...lines, 'forever:\n  work 1000\n  jmp forever', ''].join('\n'));
}

/** How an adversary ends: a loop that never stops, quietly, tightly, or hammering a port. */
const adversaryTail: fc.Arbitrary<string> = fc.oneof(
  fc.constant('forever:\n  work 1000\n  jmp forever'),
  fc.constant('forever:\n  jmp forever'),
  fc.tuple(fc.constantFrom(0x40, 0x41, 0x3f8, 0x83, 0x21), fc.integer({ min: 0, max: 5000 })).map(
    ([port, value]) => `  movi r2, ${value}\nforever:\n  out ${port}, r2\n  work 500\n  jmp forever`,
  ),
);

/**
 * The handler an adversary may install for every vector: it acknowledges interrupts and skips
 * faulting instructions, so a flood or a stream of faults goes on instead of crashing the VM.
 */
const ADVERSARY_HANDLER = `
adv_handler:
  csrr r1, cause
  movi r2, 32
  blt r1, r2, adv_fault
  csrr r1, eval
  out PORT_PIC_EOI, r1
  iret
adv_fault:
  csrr r1, epc
  addi r1, r1, 4
  csrw epc, r1
  iret
adv_ivt:
  .word ${new Array(64).fill('adv_handler').join(', ')}
`;

export interface AdversaryOptions {
  /** The adversary's memory in words (what "its own" means). */
  readonly ownWords?: number;
  readonly maxStatements?: number;
}

/**
 * A misbehaving guest: see the file comment. Its statements are drawn up to maxStatements
 * (`size: 'max'`): fast-check's default size stops arrays at about 10 whatever their maxLength.
 */
export function adversarialGuest(options: AdversaryOptions = {}): fc.Arbitrary<string> {
  const ownWords = options.ownWords ?? GUEST_WORDS;
  return fc
    .record({
      handler: fc.boolean(),
      statements: fc.array(adversaryStatement(ownWords), { minLength: 1, maxLength: options.maxStatements ?? 16, size: 'max' }),
      tail: adversaryTail,
    })
    .map(({ handler, statements, tail }) =>
      [
        '_start:',
        ...(handler ? ['  movi r1, adv_ivt', '  csrw ivt, r1'] : []),
        ...statements.map((statement, index) => statement(`s${index}`)),
        tail,
        handler ? ADVERSARY_HANDLER : '',
      ].join('\n'),
    );
}

/** An ALU step of a victim's computation on r5 (r4 holds a constant). */
const victimStep = fc.constantFrom('mul r5, r5, r5', 'addi r5, r5, 12345', 'xor r5, r5, r4', 'add r5, r5, r6', 'sub r5, r4, r5', 'shl r5, r5, r6', 'sar r5, r5, r6', 'or r5, r5, r6');

/**
 * A well-behaved guest whose observable behaviour (console, memory, the I/O it issues) does not
 * depend on timing. Layout: the data it writes at 0x2000, the count of interrupts it received
 * (it programs none, so 0) at 0x1fff.
 */
export const victimGuest: fc.Arbitrary<string> = fc
  .record({
    start: fc.integer(),
    constant: fc.integer(),
    steps: fc.array(victimStep, { minLength: 1, maxLength: 6 }),
    rounds: fc.integer({ min: 1, max: 24 }),
    workNs: fc.integer({ min: 0, max: 30_000 }),
  })
  .map(
    ({ start, constant, steps, rounds, workNs }) => `
_start:
  movi r1, victim_ivt
  csrw ivt, r1
  sti                       ; interrupts on: any interrupt that reaches this VM is counted
  movi r5, ${start}
  movi r4, ${constant}
  movi r6, 0
  movi r2, ${rounds}
round:
${steps.map((step) => `  ${step}`).join('\n')}
  st r5, [r6 + 0x2000]
  work ${workNs}            ; long rounds: the VM is preempted in the middle of its computation
  addi r6, r6, 1
  blt r6, r2, round
  movi r0, 0
  movi r6, 28
  movi r2, 4
  movi r4, 15
digit:
  shr r1, r5, r6
  and r1, r1, r4
  ld r1, [r1 + hex]
  out PORT_CONSOLE_DATA, r1
  sub r6, r6, r2
  bge r6, r0, digit
  movi r1, 10
  out PORT_CONSOLE_DATA, r1
  out PORT_POWER, r0
  hlt
on_interrupt:
  ld r3, [0x1fff]
  addi r3, r3, 1
  st r3, [0x1fff]
  csrr r3, eval
  out PORT_PIC_EOI, r3
  iret
hex: .string "0123456789abcdef"
victim_ivt:
  .space 32
  .word ${new Array(32).fill('on_interrupt').join(', ')}
`,
  );

/** One statement of user code in a trapGuest. */
const userStatement: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('cli', 'sti', 'iret', 'hlt', 'in r3, PORT_TIMER_NOW', 'out PORT_CONSOLE_DATA, r3', 'csrr r3, scratch', 'csrw scratch, r3', 'inr r3, r1', 'outr r1, r3', 'hypercall HC_VERSION') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('add', 'sub', 'mul', 'xor', 'and', 'or', 'shl', 'shr'), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })).map(([op, x, y]) => `${op} r${x}, r${x}, r${y}`) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer()).map(([register, value]) => `movi r${register}, ${value}`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 255 })).map(([register, offset]) => `st r${register}, [${0x3000 + offset}]`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 255 })).map(([register, offset]) => `ld r${register}, [${0x3000 + offset}]`) },
  { weight: 1, arbitrary: fc.constantFrom('syscall 1', 'syscall 2', 'div r3, r3, r0', 'mod r3, r3, r0', '.word 99, 0, 0, 0') },
);

/**
 * A guest kernel that installs handlers, drops to user mode and runs random user code. Its
 * handlers count each vector at 0x1000 + vector and skip the faulting instruction; `syscall 0`
 * stores the user registers at 0x1100 and powers off. Everything it does is independent of
 * timing, so its memory at the end is the same wherever it runs. Up to 30 user statements
 * (`size: 'max'`, as adversarialGuest).
 */
export const trapGuest: fc.Arbitrary<string> = fc.array(userStatement, { minLength: 1, maxLength: 30, size: 'max' }).map(
  (statements) => `
_start:
  movi sp, 0x2000
  movi r1, trap_ivt
  csrw ivt, r1
  movi r1, user
  csrw epc, r1
  movi r1, 1                ; previous mode user, interrupts off
  csrw estatus, r1
  movi r0, 0
  iret
user:
${statements.map((statement) => `  ${statement}`).join('\n')}
  syscall 0
on_trap:
  csrw scratch, r1          ; the user's r1, kept while the handler uses the register
  csrr r1, cause
  push r2
  ld r2, [r1 + 0x1000]
  addi r2, r2, 1
  st r2, [r1 + 0x1000]
  movi r2, 3
  beq r1, r2, trap_syscall
  csrr r1, epc              ; a fault: skip the instruction
  addi r1, r1, 4
  csrw epc, r1
  pop r2
  csrr r1, scratch
  iret
trap_syscall:
  pop r2
  csrr r1, eval
  jz r1, trap_exit
  csrr r1, scratch
  iret
trap_exit:
  csrr r1, scratch
  st r1, [0x1101]
  st r2, [0x1102]
  st r3, [0x1103]
  st r4, [0x1104]
  st r5, [0x1105]
  out PORT_POWER, r0
  hlt
trap_ivt:
  .word ${new Array(6).fill('on_trap').join(', ')}
  .space 58
`,
);
