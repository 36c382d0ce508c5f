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

/** Stores a batch may make before it stops to let the monitor catch up (bounds the undo log). */
export const UNDO_STORES = 1024;

export class CpuState {
  readonly regs = new Int32Array(REGISTER_COUNT);
  readonly csr = new Int32Array(CSR_COUNT);
  pc = 0;
  mode: number = Mode.KERNEL;
  /** Interrupt enable flag (virtual IF). */
  ie = 0;
  /** Remaining ns of a `work` instruction cut by the end of a time slice (on interrupt entry it moves to the EWORK CSR). */
  workLeftNs = 0;

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
  /** Writes to the page-table base (each one flushes the TLBs, as a CR3 write does). */
  ptbWrites = 0;

  /**
   * The undo log of the current batch: (host word index, old value) for every store, so the
   * monitor can take a batch back and rerun it shorter when something must happen to this vCPU
   * earlier than the batch's end (a preemption, an interrupt). See monitor.ts.
   */
  readonly undo = new Int32Array(UNDO_STORES * 2);
  undoLength = 0;
  /** Code pages binary-translated during the current batch (undone with it). */
  readonly translatedInBatch: number[] = [];

  private readonly savedRegs = new Int32Array(REGISTER_COUNT);
  private readonly savedCsr = new Int32Array(CSR_COUNT);
  private saved = [0, 0, 0, 0, 0, 0, 0];

  /** Remembers the state at the start of a batch and empties the undo log. */
  checkpoint(): void {
    // Element by element: TypedArray.prototype.set costs more than copying 8 and 9 words (issue 13's profile).
    const regs = this.regs;
    const savedRegs = this.savedRegs;
    for (let index = 0; index < REGISTER_COUNT; index++) savedRegs[index] = regs[index];
    const csr = this.csr;
    const savedCsr = this.savedCsr;
    for (let index = 0; index < CSR_COUNT; index++) savedCsr[index] = csr[index];
    const saved = this.saved;
    saved[0] = this.pc;
    saved[1] = this.mode;
    saved[2] = this.ie;
    saved[3] = this.workLeftNs;
    saved[5] = this.retired;
    saved[6] = this.workNs;
    this.undoLength = 0;
    if (this.translatedInBatch.length !== 0) this.translatedInBatch.length = 0;
  }

  /** Takes the batch back: memory from the undo log (newest first), registers from the checkpoint. */
  rollback(memory: Int32Array, translated: Uint8Array | null = null): void {
    if (translated !== null) for (const page of this.translatedInBatch) translated[page] = 0;
    this.translatedInBatch.length = 0;
    const undo = this.undo;
    for (let index = this.undoLength - 2; index >= 0; index -= 2) memory[undo[index]] = undo[index + 1];
    this.undoLength = 0;
    const regs = this.regs;
    const savedRegs = this.savedRegs;
    for (let index = 0; index < REGISTER_COUNT; index++) regs[index] = savedRegs[index];
    const csr = this.csr;
    const savedCsr = this.savedCsr;
    for (let index = 0; index < CSR_COUNT; index++) csr[index] = savedCsr[index];
    const saved = this.saved;
    this.pc = saved[0];
    this.mode = saved[1];
    this.ie = saved[2];
    this.workLeftNs = saved[3];
    this.retired = saved[5];
    this.workNs = saved[6];
  }
}
