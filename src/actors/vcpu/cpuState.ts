/**
 * The architectural state of one vCPU plus the scratch fields through which the interpreter
 * reports an exit. A plain class with numeric fields only, so V8 keeps it monomorphic.
 */
import { CSR_COUNT, Mode, REGISTER_COUNT } from '../../core/isa/opcodes.js';

/** Why the interpreter stopped. BUDGET is not an exit: the time it was given ran out. */
export const Stop = {
  BUDGET: 0,
  IO: 1,
  MMIO: 2,
  HLT: 3,
  HYPERCALL: 4,
  PRIVILEGED: 5,
  PAGE_FAULT: 6,
  EXCEPTION: 7,
} as const;
export type StopCode = (typeof Stop)[keyof typeof Stop];

export const Access = { READ: 0, WRITE: 1, FETCH: 2 } as const;

export class CpuState {
  readonly regs = new Int32Array(REGISTER_COUNT);
  readonly csr = new Int32Array(CSR_COUNT);
  pc = 0;
  mode: number = Mode.KERNEL;
  /** Interrupt enable flag (virtual IF). */
  ie = 0;
  /** Remaining ns of a `work` instruction cut by the end of a time slice. */
  workLeftNs = 0;
  /** workLeftNs saved while an interrupt handler runs. */
  savedWorkLeftNs = 0;

  /** Why the last run stopped, and its operands (meaning depends on the stop code). */
  stop: StopCode = Stop.BUDGET;
  stopA = 0;
  stopB = 0;
  stopC = 0;
  /** Virtual ns consumed by the last run. */
  elapsedNs = 0;

  /** Counters over the vCPU's life. */
  retired = 0;
  workNs = 0;
}
