/**
 * Workloads for scheduling research, as guest programs (docs/scheduling.md, "Workloads"). They
 * are built from `work` (abstract computation, O(1) to simulate, preemptible), port I/O, `hlt`
 * and the timer interrupt, so traps, blocking and wake-ups are real and cost what the cost model
 * says. Each reports what it gets done on the probe port 0x80 (the PC's POST-code port): a write
 * of PROBE_DONE counts one unit of work (a request, a burst, a critical section), PROBE_MET and
 * PROBE_MISSED one real-time job that met or missed its deadline. The metrics
 * (src/actors/metrics/) count these `exit.io` events; the guests keep no score themselves.
 *
 * The I/O "device" of the I/O-bound, interactive and trace-driven guests is the VM's one-shot
 * timer: a request is issued by arming it, and its completion is the interrupt (a disk with a
 * fixed service time). While it waits, the vCPU blocks in `hlt`. An interrupt that arrives
 * between the guest's check and its `hlt` would leave it asleep, so each handler moves EPC past
 * that `hlt` (the restartable-idle trick of Linux's idle loop).
 */

export const PROBE_PORT = 0x80;
export const PROBE_MET = 0;
export const PROBE_MISSED = 1;
export const PROBE_DONE = 2;

/**
 * The handler of a guest that waits in `hlt` at the label `sleep` after checking for work:
 * acknowledges `irq` and, when it interrupted that very `hlt` (woken between the check and the
 * hlt), resumes after it, so no wake-up is lost.
 */
export function hltWakeHandler(irq: string): string {
  return String.raw`irq:
        push r1
        push r2
        csrr r1, epc
        movi r2, sleep
        bne r1, r2, irq_eoi
        addi r1, r1, 4          ; woken between the check and the hlt: do not sleep
        csrw epc, r1
irq_eoi:
        movi r1, ${irq}
        out PORT_PIC_EOI, r1
        pop r2
        pop r1
        iret
`;
}

/** The interrupt handler and vector table shared by the blocking workloads (and the scale bench). */
export const WAKE_HANDLER = String.raw`
irq:
        push r1
        push r2
        movi r1, 1
        st r1, [done]
        csrr r1, epc
        movi r2, sleep
        bne r1, r2, irq_eoi
        addi r1, r1, 4          ; woken between the check and the hlt: do not sleep
        csrw epc, r1
irq_eoi:
        movi r1, IRQ_TIMER
        out PORT_PIC_EOI, r1
        pop r2
        pop r1
        iret
done:   .word 0
        .align 4
ivt:    .space VEC_IRQ_BASE
        .word irq
        .space 64
stack_top:
`;

export const SETUP = String.raw`
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        sti
`;

export const CPU_BOUND_SOURCE = String.raw`
; cpu-bound: computes for ever, CHUNK_NS at a time (work completed: the vCPU's work ns)
_start:
loop:
        work CHUNK_NS
        jmp loop
`;
export const CPU_BOUND_DEFAULTS = { CHUNK_NS: 1_000_000 } as const;

export const IO_BOUND_SOURCE = String.raw`
; io-bound: BURST_NS of computation to prepare a request, then the request to the device, which
; completes after IO_NS with an interrupt; the vCPU blocks in hlt meanwhile. One probe per request.
_start:${SETUP}
next:
        work BURST_NS
        movi r1, 0
        st r1, [done]
        movi r1, IO_NS
        out PORT_TIMER_ONESHOT, r1
wait:
        ld r1, [done]
        jnz r1, complete
sleep:  hlt
        jmp wait
complete:
        movi r1, ${PROBE_DONE}
        out ${PROBE_PORT}, r1
        jmp next
${WAKE_HANDLER}`;
export const IO_BOUND_DEFAULTS = { BURST_NS: 50_000, IO_NS: 1_000_000 } as const;

export const IO_BOUND_PV_SOURCE = String.raw`
; io-bound-pv: BURST_NS of computation, then one sector read through the paravirtual block device
; (devices: { block: paravirtual }): descriptor 0 made available again, one notification; the
; vCPU blocks in hlt until the completion's interrupt. One probe per request. Under a driver
; domain (host.driverDomain) the interrupt comes after dom0's backend has run for it.
        .equ VQ_AVAIL, 64       ; platform.ts: VIRTQ_AVAIL
        .equ VQ_USED, 82        ; platform.ts: VIRTQ_USED
_start:
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, queue
        out PORT_VIRTIO_QUEUE, r1
        movi r1, 1              ; descriptor 0: [read, sector 0, buffer, status]
        st r1, [queue]
        movi r1, buffer
        st r1, [queue + 2]
        movi r5, 0              ; r5 = requests issued
        sti
next:
        work BURST_NS
        addi r5, r5, 1
        st r5, [queue + VQ_AVAIL + 1]   ; avail.idx (every ring entry names descriptor 0)
        out PORT_VIRTIO_NOTIFY, r5
wait:
        ld r1, [queue + VQ_USED + 1]    ; used.idx
        bge r1, r5, complete
sleep:  hlt
        jmp wait
complete:
        movi r1, ${PROBE_DONE}
        out ${PROBE_PORT}, r1
        jmp next
${hltWakeHandler('IRQ_BLOCK')}        .align 4
ivt:    .space VEC_IRQ_BASE + IRQ_BLOCK
        .word irq
        .space 64
stack_top:
queue:  .space 128
buffer: .space 128
`;
export const IO_BOUND_PV_DEFAULTS = { BURST_NS: 50_000 } as const;

export const INTERACTIVE_SOURCE = String.raw`
; interactive: thinks (sleeps) for a time drawn uniformly from [THINK_NS/2, 3 THINK_NS/2) by a
; linear congruential generator seeded with SEED, wakes, and answers with a BURST_NS burst.
_start:${SETUP}
        movi r6, SEED
next:
        movi r1, 1103515245
        mul r6, r6, r1
        addi r6, r6, 12345
        movi r1, 8
        shr r2, r6, r1
        movi r3, THINK_NS
        mod r2, r2, r3
        movi r4, 2
        div r3, r3, r4
        add r2, r2, r3          ; think time
        movi r1, 0
        st r1, [done]
        out PORT_TIMER_ONESHOT, r2
wait:
        ld r1, [done]
        jnz r1, answer
sleep:  hlt
        jmp wait
answer:
        work BURST_NS
        movi r1, ${PROBE_DONE}
        out ${PROBE_PORT}, r1
        jmp next
${WAKE_HANDLER}`;
export const INTERACTIVE_DEFAULTS = { THINK_NS: 5_000_000, BURST_NS: 200_000, SEED: 1 } as const;

export const PERIODIC_RT_SOURCE = String.raw`
; periodic-rt: a job of WCET_NS every PERIOD_NS (a multiple of 1 us), due DEADLINE_NS after its
; release. Job k is released at t0 + k PERIOD_NS; each job reports whether it met its deadline.
_start:
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        in r1, PORT_TIMER_NOW
        st r1, [release]        ; release of job 0, in us
        movi r1, PERIOD_NS
        out PORT_TIMER_PERIOD, r1
        sti
job:
        work WCET_NS
        in r1, PORT_TIMER_NOW
        ld r2, [release]
        movi r3, DEADLINE_NS
        movi r4, 1000
        div r3, r3, r4
        add r2, r2, r3          ; absolute deadline, us
        movi r5, ${PROBE_MET}
        bge r2, r1, report
        movi r5, ${PROBE_MISSED}
report:
        out ${PROBE_PORT}, r5
        ld r2, [release]
        movi r3, PERIOD_NS
        div r3, r3, r4
        add r2, r2, r3
        st r2, [release]        ; next release
wait:
        in r1, PORT_TIMER_NOW
        bge r1, r2, job
sleep:  hlt
        ld r2, [release]
        jmp wait
release: .word 0
${WAKE_HANDLER}`;
export const PERIODIC_RT_DEFAULTS = { PERIOD_NS: 10_000_000, WCET_NS: 2_000_000, DEADLINE_NS: 10_000_000 } as const;

export const SMP_LOCK_SOURCE = String.raw`
; smp-lock: every vCPU computes OUTSIDE_NS, takes a spin lock shared by the VM's vCPUs, holds it
; for CRITICAL_NS, releases it and reports one critical section. A waiter spins (SPIN_NS per try).
; A holder preempted by the hypervisor keeps the lock while the others spin: lock-holder
; preemption. The lock is test-and-test-and-set: a plain read while it is held, then an atomic
; xchg to take it.
_start:
loop:
        work OUTSIDE_NS
spin:
        ld r1, [lock]
        jnz r1, wait
        movi r1, 1
        xchg r1, [lock]
        jz r1, take
wait:
        work SPIN_NS
        jmp spin
take:
        work CRITICAL_NS
        movi r1, 0
        st r1, [lock]
        movi r1, ${PROBE_DONE}
        out ${PROBE_PORT}, r1
        jmp loop
lock:   .word 0
`;
export const SMP_LOCK_DEFAULTS = { OUTSIDE_NS: 200_000, CRITICAL_NS: 50_000, SPIN_NS: 1_000 } as const;

/** One burst of a trace: compute `burstNs`, then wait `sleepNs` on the device (0: no wait). */
export interface TraceBurst {
  readonly burstNs: number;
  readonly sleepNs: number;
}

export class TraceError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TRACE_BURSTS = 4096;
const MAX_TRACE_NS = 2 ** 31 - 1;

/**
 * Parses a CSV trace: one `burst_ns,sleep_ns` per line (integers), an optional header line, `#`
 * comments and blank lines ignored. Throws TraceError with the line and column of a problem.
 */
export function parseTrace(csv: string): TraceBurst[] {
  const bursts: TraceBurst[] = [];
  const lines = csv.split(/\r?\n/);
  lines.forEach((text, index) => {
    const line = index + 1;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    if (bursts.length === 0 && /^[a-z_]/i.test(trimmed)) return; // header
    const cells = text.split(',');
    if (cells.length !== 2) throw new TraceError(line, 1, `expected 2 columns (burst_ns,sleep_ns), got ${cells.length}`);
    let column = 1;
    const values = cells.map((cell, cellIndex) => {
      const value = cell.trim();
      if (!/^\d+$/.test(value) || Number(value) > MAX_TRACE_NS) {
        throw new TraceError(line, column, `expected ${cellIndex === 0 ? 'burst_ns' : 'sleep_ns'} as an integer from 0 to ${MAX_TRACE_NS}, got '${value}'`);
      }
      column += cell.length + 1;
      return Number(value);
    });
    if (values[0] === 0 && values[1] === 0) throw new TraceError(line, 1, 'a burst of 0 ns followed by a wait of 0 ns does nothing');
    bursts.push({ burstNs: values[0], sleepNs: values[1] });
    if (bursts.length > MAX_TRACE_BURSTS) throw new TraceError(line, 1, `a trace holds at most ${MAX_TRACE_BURSTS} bursts`);
  });
  if (bursts.length === 0) throw new TraceError(1, 1, 'the trace has no bursts');
  return bursts;
}

/**
 * The guest program that replays a trace: for each burst, compute, report it, then wait on the
 * device for the sleep time; at the end of the trace it starts over.
 */
export function traceGuestSource(bursts: readonly TraceBurst[]): string {
  const table = bursts.map((burst) => `        .word ${burst.burstNs}, ${burst.sleepNs}`).join('\n');
  return String.raw`
; trace: replays a trace of (burst, sleep) pairs for ever
_start:${SETUP}
restart:
        movi r6, table
next:
        ld r1, [r6]
        ld r2, [r6 + 1]
        movi r3, -1
        beq r1, r3, restart
        workr r1
        movi r1, ${PROBE_DONE}
        out ${PROBE_PORT}, r1
        addi r6, r6, 2
        jz r2, next
        movi r1, 0
        st r1, [done]
        out PORT_TIMER_ONESHOT, r2
wait:
        ld r1, [done]
        jnz r1, next
sleep:  hlt
        jmp wait
table:
${table}
        .word -1, -1
${WAKE_HANDLER}`;
}

/** The trace of the bundled `trace` guest: a bursty service (the format of a trace file). */
export const DEFAULT_TRACE_CSV = `burst_ns,sleep_ns
300000,2000000
1500000,500000
100000,4000000
800000,0
200000,1000000
`;
export const TRACE_SOURCE = traceGuestSource(parseTrace(DEFAULT_TRACE_CSV));
