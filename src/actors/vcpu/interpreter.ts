/**
 * The vCPU's hot loop: fetch, decode and execute guest instructions over typed arrays until the
 * time budget runs out or something needs the monitor (an exit). No allocation, no events, no
 * calls into the rest of the system: exits are reported through CpuState's stop fields.
 *
 * Every memory access (fetch, load, store) goes through the VM's guest-physical map, or the TLB
 * of a paging guest: fetches and loads through `pageBase`, stores (st, sta, push, call) through
 * `writeBase`, the same map with -1 where a page may be read but not written (a read-only PTE, a
 * shadow-protected page table, a page shared by several VMs). An address the map does not back is
 * a PAGE_FAULT stop (the EPT violation of hardware-assisted monitors), or an MMIO stop when it
 * falls inside the device window; a store to a read-only page is a PAGE_FAULT stop with access
 * WRITE. Both arrays have the same length.
 *
 * `trapMask[op]` says which privileged instructions exit when run in virtual kernel mode: all of
 * them under trap-and-emulate. A privileged instruction in virtual user mode always raises #GP.
 * The stop leaves pc at the instruction that stopped, so the monitor can emulate and advance it.
 *
 * Every store is recorded in the undo log (CpuState.undo) so that a batch can be taken back and
 * rerun shorter; a batch whose undo log is full stops early, as if its budget had run out.
 */
import * as opcodes from '../../core/isa/opcodes.js';
import * as platform from '../../core/platform.js';
import { Access as ACCESS, CpuState, Stop as STOP, type StopCode } from './cpuState.js';

// The hot loop reads these as module-local constants, not through imports: a test runner that
// rewrites imports into property reads of a module object (vitest does) would otherwise pay for
// a getter on every `case Op.X` of the decode switch (the loop ran 14 times slower under vitest).
const { ESTATUS_PREV_IE, ESTATUS_PREV_USER, Mode, Op, Vector, Csr } = opcodes;
const { MMIO_BASE, MMIO_LIMIT, PAGE_MASK, PAGE_SHIFT } = platform;
const Access = ACCESS;
const Stop = STOP;

export function execute(
  cpu: CpuState,
  memory: Int32Array,
  pageBase: Int32Array,
  writeBase: Int32Array,
  budgetNs: number,
  instructionNs: number,
  trapMask: Uint8Array,
  nativePrivilegedNs = instructionNs,
  translated: Uint8Array | null = null,
  translatePageNs = 0,
): StopCode {
  const regs = cpu.regs;
  const pageCount = pageBase.length;
  let pc = cpu.pc | 0;
  let left = budgetNs;
  let retired = 0;
  let work = 0;
  let codePage = -1;
  let codeBase = 0;
  let stop: StopCode = Stop.BUDGET;
  let stopA = 0;
  let stopB = 0;
  let stopC = 0;
  const undo = cpu.undo;
  let undoLength = cpu.undoLength;
  const undoLimit = undo.length;

  run: while (left > 0) {
    // Fetch through the guest-physical map, caching the current code page.
    const page = pc >>> PAGE_SHIFT;
    if (page !== codePage || (pc & 3) !== 0) {
      if ((pc & 3) !== 0) {
        stop = Stop.EXCEPTION;
        stopA = Vector.AC;
        stopB = pc;
        stopC = pc;
        break;
      }
      if (page >= pageCount || pageBase[page] < 0) {
        stop = Stop.PAGE_FAULT;
        stopA = pc;
        stopB = Access.FETCH;
        break;
      }
      codePage = page;
      codeBase = pageBase[page] - (page << PAGE_SHIFT);
      if (translated !== null && cpu.mode === Mode.KERNEL && translated[page] === 0) {
        // Binary translation: kernel code is translated a page at a time, the first time it runs.
        translated[page] = 1;
        cpu.translatedInBatch.push(page);
        left -= translatePageNs;
        if (left <= 0) break;
      }
    }
    const at = codeBase + pc;
    const op = memory[at];
    const a = memory[at + 1];
    const b = memory[at + 2];
    const c = memory[at + 3];

    switch (op) {
      case Op.NOP:
        break;
      case Op.MOVI:
        regs[a & 7] = b;
        break;
      case Op.MOV:
        regs[a & 7] = regs[b & 7];
        break;
      case Op.ADD:
        regs[a & 7] = regs[b & 7] + regs[c & 7];
        break;
      case Op.SUB:
        regs[a & 7] = regs[b & 7] - regs[c & 7];
        break;
      case Op.MUL:
        regs[a & 7] = Math.imul(regs[b & 7], regs[c & 7]);
        break;
      case Op.DIV:
      case Op.MOD: {
        const divisor = regs[c & 7];
        if (divisor === 0) {
          stop = Stop.EXCEPTION;
          stopA = Vector.DE;
          stopB = 0;
          stopC = pc;
          break run;
        }
        regs[a & 7] = op === Op.DIV ? (regs[b & 7] / divisor) | 0 : regs[b & 7] % divisor | 0;
        break;
      }
      case Op.AND:
        regs[a & 7] = regs[b & 7] & regs[c & 7];
        break;
      case Op.OR:
        regs[a & 7] = regs[b & 7] | regs[c & 7];
        break;
      case Op.XOR:
        regs[a & 7] = regs[b & 7] ^ regs[c & 7];
        break;
      case Op.SHL:
        regs[a & 7] = regs[b & 7] << (regs[c & 7] & 31);
        break;
      case Op.SHR:
        regs[a & 7] = regs[b & 7] >>> (regs[c & 7] & 31);
        break;
      case Op.SAR:
        regs[a & 7] = regs[b & 7] >> (regs[c & 7] & 31);
        break;
      case Op.ADDI:
        regs[a & 7] = regs[b & 7] + c;
        break;
      case Op.LD:
      case Op.LDA: {
        const address = op === Op.LD ? (regs[b & 7] + c) | 0 : b;
        const dataPage = address >>> PAGE_SHIFT;
        const base = dataPage < pageCount ? pageBase[dataPage] : -1;
        if (base < 0) {
          stop = address >= MMIO_BASE && address < MMIO_LIMIT ? Stop.MMIO : Stop.PAGE_FAULT;
          stopA = address;
          stopB = Access.READ;
          stopC = a & 7;
          break run;
        }
        regs[a & 7] = memory[base + (address & PAGE_MASK)];
        break;
      }
      case Op.ST:
      case Op.STA: {
        const address = op === Op.ST ? (regs[b & 7] + c) | 0 : b;
        const dataPage = address >>> PAGE_SHIFT;
        const base = dataPage < pageCount ? writeBase[dataPage] : -1;
        if (base < 0) {
          stop = address >= MMIO_BASE && address < MMIO_LIMIT ? Stop.MMIO : Stop.PAGE_FAULT;
          stopA = address;
          stopB = Access.WRITE;
          stopC = regs[a & 7];
          break run;
        }
        if (undoLength === undoLimit) break run;
        const index = base + (address & PAGE_MASK);
        undo[undoLength++] = index;
        undo[undoLength++] = memory[index];
        memory[index] = regs[a & 7];
        break;
      }
      case Op.XCHG:
      case Op.XCHGA: {
        // One instruction, so atomic: no other vCPU runs between its read and its write.
        const address = op === Op.XCHG ? (regs[b & 7] + c) | 0 : b;
        const dataPage = address >>> PAGE_SHIFT;
        const base = dataPage < pageCount ? writeBase[dataPage] : -1;
        if (base < 0) {
          stop = Stop.PAGE_FAULT;
          stopA = address;
          stopB = Access.WRITE;
          break run;
        }
        if (undoLength === undoLimit) break run;
        const index = base + (address & PAGE_MASK);
        const old = memory[index];
        undo[undoLength++] = index;
        undo[undoLength++] = old;
        memory[index] = regs[a & 7];
        regs[a & 7] = old;
        break;
      }
      case Op.PUSH:
      case Op.CALL: {
        const address = (regs[7] - 1) | 0;
        const dataPage = address >>> PAGE_SHIFT;
        const base = dataPage < pageCount ? writeBase[dataPage] : -1;
        if (base < 0) {
          stop = Stop.PAGE_FAULT;
          stopA = address;
          stopB = Access.WRITE;
          break run;
        }
        if (undoLength === undoLimit) break run;
        const index = base + (address & PAGE_MASK);
        undo[undoLength++] = index;
        undo[undoLength++] = memory[index];
        memory[index] = op === Op.PUSH ? regs[a & 7] : pc + 4;
        regs[7] = address;
        if (op === Op.CALL) {
          pc = a;
          left -= instructionNs;
          retired++;
          continue run;
        }
        break;
      }
      case Op.POP:
      case Op.RET: {
        const address = regs[7];
        const dataPage = address >>> PAGE_SHIFT;
        const base = dataPage < pageCount ? pageBase[dataPage] : -1;
        if (base < 0) {
          stop = Stop.PAGE_FAULT;
          stopA = address;
          stopB = Access.READ;
          break run;
        }
        const value = memory[base + (address & PAGE_MASK)];
        regs[7] = (address + 1) | 0;
        if (op === Op.RET) {
          pc = value;
          left -= instructionNs;
          retired++;
          continue run;
        }
        regs[a & 7] = value;
        break;
      }
      case Op.JMP:
        pc = a;
        left -= instructionNs;
        retired++;
        continue run;
      case Op.JZ:
        if (regs[a & 7] === 0) {
          pc = b;
          left -= instructionNs;
          retired++;
          continue run;
        }
        break;
      case Op.JNZ:
        if (regs[a & 7] !== 0) {
          pc = b;
          left -= instructionNs;
          retired++;
          continue run;
        }
        break;
      case Op.BEQ:
      case Op.BNE:
      case Op.BLT:
      case Op.BGE: {
        const x = regs[a & 7];
        const y = regs[b & 7];
        const taken = op === Op.BEQ ? x === y : op === Op.BNE ? x !== y : op === Op.BLT ? x < y : x >= y;
        if (taken) {
          pc = c;
          left -= instructionNs;
          retired++;
          continue run;
        }
        break;
      }
      case Op.JR:
        pc = regs[a & 7];
        left -= instructionNs;
        retired++;
        continue run;
      case Op.WORK:
      case Op.WORKR: {
        // Abstract computation: O(1) however long, but preemptible. A slice that ends inside it
        // leaves the rest in workLeftNs and pc on the instruction.
        const total = cpu.workLeftNs > 0 ? cpu.workLeftNs : op === Op.WORK ? a : regs[a & 7];
        if (total <= left) {
          left -= total > 0 ? total : 0;
          work += total > 0 ? total : 0;
          cpu.workLeftNs = 0;
          retired++;
          pc += 4;
          continue run;
        }
        cpu.workLeftNs = total - left;
        work += left;
        left = 0;
        break run;
      }
      case Op.SYSCALL:
        stop = Stop.EXCEPTION;
        stopA = Vector.SYSCALL;
        stopB = a;
        stopC = pc + 4;
        break run;
      case Op.HYPERCALL:
        if (cpu.mode === Mode.USER) {
          stop = Stop.EXCEPTION;
          stopA = Vector.GP;
          stopB = op;
          stopC = pc;
          break run;
        }
        stop = Stop.HYPERCALL;
        stopA = a;
        break run;
      case Op.CLI:
      case Op.STI:
      case Op.IRET:
      case Op.HLT:
      case Op.IN:
      case Op.OUT:
      case Op.CSRR:
      case Op.CSRW:
      case Op.INR:
      case Op.OUTR:
        if (cpu.mode === Mode.USER) {
          stop = Stop.EXCEPTION;
          stopA = Vector.GP;
          stopB = op;
          stopC = pc;
          break run;
        }
        if (op === Op.HLT) {
          stop = Stop.HLT;
          stopA = cpu.ie;
          break run;
        }
        if (op === Op.IN || op === Op.OUT || op === Op.INR || op === Op.OUTR) {
          stop = Stop.IO;
          if (op === Op.IN) {
            stopA = b;
            stopB = 0;
            stopC = a & 7;
          } else if (op === Op.OUT) {
            stopA = a;
            stopB = 1;
            stopC = regs[b & 7];
          } else if (op === Op.INR) {
            stopA = regs[b & 7];
            stopB = 0;
            stopC = a & 7;
          } else {
            stopA = regs[a & 7];
            stopB = 1;
            stopC = regs[b & 7];
          }
          break run;
        }
        if (trapMask[op] !== 0) {
          stop = Stop.PRIVILEGED;
          stopA = op;
          break run;
        }
        // Run without an exit (hardware-assisted, or binary-translated into a call into the
        // monitor that costs nativePrivilegedNs): the shared semantics.
        cpu.pc = pc;
        executePrivileged(cpu, op, a, b);
        pc = cpu.pc;
        left -= nativePrivilegedNs;
        retired++;
        if (op === Op.STI || op === Op.IRET || (op === Op.CSRW && a === Csr.PTB)) {
          // Interrupts may now be deliverable, the mode may have changed, or the page table:
          // give the monitor a chance at the next entry.
          break run;
        }
        continue run;
      default:
        stop = Stop.EXCEPTION;
        stopA = Vector.UD;
        stopB = op;
        stopC = pc;
        break run;
    }
    pc += 4;
    left -= instructionNs;
    retired++;
  }

  cpu.undoLength = undoLength;
  cpu.pc = pc;
  cpu.stop = stop;
  cpu.stopA = stopA;
  cpu.stopB = stopB;
  cpu.stopC = stopC;
  // An instruction started before the budget ran out takes its whole cost (a 40 ns translated call
  // started 3 ns before the end holds the CPU 37 ns past it): where a batch ends changes no event.
  cpu.elapsedNs = budgetNs - left;
  cpu.retired += retired;
  cpu.workNs += work;
  return stop;
}

/**
 * The semantics of the privileged instructions that change vCPU state only (cli, sti, iret,
 * csrr, csrw). Used by the monitor when it emulates a trapped one, and by the interpreter when
 * they run natively. Advances pc (iret sets it). Returns false for an instruction it does not
 * cover.
 */
export function executePrivileged(cpu: CpuState, op: number, a: number, b: number): boolean {
  switch (op) {
    case Op.CLI:
      cpu.ie = 0;
      cpu.pc += 4;
      return true;
    case Op.STI:
      cpu.ie = 1;
      cpu.pc += 4;
      return true;
    case Op.IRET: {
      const status = cpu.csr[Csr.ESTATUS];
      cpu.pc = cpu.csr[Csr.EPC];
      cpu.mode = (status & ESTATUS_PREV_USER) !== 0 ? Mode.USER : Mode.KERNEL;
      cpu.ie = (status & ESTATUS_PREV_IE) !== 0 ? 1 : 0;
      // What was left of an interrupted `work` (EWORK, architectural, so a kernel switching tasks
      // saves and restores it with EPC, as an OS does REP's count in RCX).
      cpu.workLeftNs = cpu.csr[Csr.EWORK];
      cpu.csr[Csr.EWORK] = 0;
      return true;
    }
    case Op.CSRR:
      cpu.regs[a & 7] = (b >>> 0) < cpu.csr.length ? cpu.csr[b] : 0;
      cpu.pc += 4;
      return true;
    case Op.CSRW:
      // The vCPU index is read-only; writes to it and to unknown CSRs are ignored.
      if ((a >>> 0) < cpu.csr.length && a !== Csr.VCPU) cpu.csr[a] = cpu.regs[b & 7];
      if (a === Csr.PTB) cpu.ptbWrites++;
      cpu.pc += 4;
      return true;
    default:
      return false;
  }
}

/**
 * Enters an interrupt or exception handler: saves pc, mode and IE, switches to kernel mode with
 * interrupts off and jumps to the handler. Returns false when the vector has no handler: no
 * vector table installed (IVT = 0, as at reset), an empty entry, or a table outside memory.
 */
export function enterHandler(
  cpu: CpuState,
  vector: number,
  returnPc: number,
  value: number,
  readGuest: (address: number) => number | undefined,
): boolean {
  const table = cpu.csr[Csr.IVT];
  if (table === 0) return false;
  const handler = readGuest(table + vector);
  if (handler === undefined || handler === 0) return false;
  cpu.csr[Csr.EPC] = returnPc;
  cpu.csr[Csr.ESTATUS] = (cpu.mode === Mode.USER ? ESTATUS_PREV_USER : 0) | (cpu.ie !== 0 ? ESTATUS_PREV_IE : 0);
  cpu.csr[Csr.CAUSE] = vector;
  cpu.csr[Csr.EVAL] = value;
  cpu.mode = Mode.KERNEL;
  cpu.ie = 0;
  cpu.csr[Csr.EWORK] = cpu.workLeftNs;
  cpu.workLeftNs = 0;
  cpu.pc = handler;
  return true;
}
