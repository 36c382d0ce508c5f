/**
 * Memory virtualization in the monitor: which map a batch runs on, and what a TLB miss or a
 * protection fault of a paging guest costs (src/actors/paging.ts has the TLB, the MMU and the
 * shadow tables, and the model). A fault is, in order: the guest's own page fault (its page
 * table says no), the host's (a shared, unbacked or swapped page, hostMemory.ts), a write to a
 * shadow-protected page table (emulated), or a TLB fill by nested paging (a hardware walk) or
 * shadow paging (a shadow walk, or a hidden page fault that exits).
 */
import type { PageFaultCause } from '../../core/events.js';
import { Csr, Mode, Op, Vector } from '../../core/isa/opcodes.js';
import { PAGE_MASK, PAGE_SHIFT } from '../../core/platform.js';
import { DEFAULT_TLB_ENTRIES, GUEST_VIRTUAL_PAGES, Mmu, PTE_PRESENT, PTE_USER, PTE_WRITE, SHADOW_WRITABLE } from '../paging.js';
import { Access } from '../vcpu/cpuState.js';
import { enterHandler } from '../vcpu/interpreter.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';
import { Entry, type MonitorCore, type Pcpu } from './core.js';

export class MemoryVirtualization {
  constructor(private readonly core: MonitorCore) {}

  /** The next batch runs on the VM's guest-physical map, or, when the guest pages, on a TLB. */
  selectTranslation(vcpu: Vcpu, vm: Vm): void {
    const cpu = vcpu.cpu;
    const ptb = cpu.csr[Csr.PTB];
    if (ptb === 0) {
      vcpu.translation = vm.memory.pageBase;
      vcpu.writeTranslation = vm.memory.writeBase;
      return;
    }
    let mmu = vcpu.mmu;
    if (mmu === undefined) {
      mmu = new Mmu(vm.options.tlbEntries ?? DEFAULT_TLB_ENTRIES, vm.options.tlbTagged === true);
      mmu.pcpu = vcpu.pcpu;
      vcpu.mmu = mmu;
    }
    if (mmu.ptb !== ptb || mmu.ptbWrites !== cpu.ptbWrites) {
      mmu.flush();
      mmu.ptb = ptb;
      mmu.ptbWrites = cpu.ptbWrites;
    }
    const tlb = cpu.mode === Mode.USER ? mmu.user : mmu.kernel;
    vcpu.translation = tlb.map;
    vcpu.writeTranslation = tlb.writeMap;
  }

  /**
   * A TLB miss of a paging guest (see paging.ts): walk the guest's table, then fill the TLB as
   * nested paging (a hardware walk, no exit) or shadow paging (a shadow-table walk, or a hidden
   * page fault that exits) does; emulate an access to a shadow-protected page table; or reflect a
   * page fault the guest's own table causes.
   */
  pagingFault(pcpu: Pcpu, vcpu: Vcpu): void {
    const core = this.core;
    const costs = core.costs;
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const mmu = vcpu.mmu as Mmu;
    const address = cpu.stopA;
    const access = cpu.stopB;
    const user = cpu.mode === Mode.USER;
    const tlb = user ? mmu.user : mmu.kernel;
    const page = address >>> PAGE_SHIFT;
    // A store to a read-only entry is a protection fault, not a miss.
    if (!(tlb.map[page] >= 0)) tlb.misses++;
    const ptb = cpu.csr[Csr.PTB];
    if (address < 0 || page >= GUEST_VIRTUAL_PAGES) {
      this.guestPageFault(pcpu, vcpu, address, access);
      return;
    }
    if ((ptb & PAGE_MASK) !== 0) {
      core.crash(vm, vcpu, `page table base 0x${(ptb >>> 0).toString(16)} is not page-aligned`);
      return;
    }
    const entry = core.readGuest(vm, ptb + page);
    if (entry === undefined) {
      core.crash(vm, vcpu, `page table at guest-physical 0x${(ptb >>> 0).toString(16)} is outside the VM's memory (EPT violation)`);
      return;
    }
    // A write through an entry without the write bit is the guest's own fault too (the model's
    // CR0.WP is set: kernel mode is held to it as well).
    const write = access === Access.WRITE;
    if ((entry & PTE_PRESENT) === 0 || (user && (entry & PTE_USER) === 0) || (write && (entry & PTE_WRITE) === 0)) {
      this.guestPageFault(pcpu, vcpu, address, access);
      return;
    }
    const frame = entry >>> PAGE_SHIFT;
    const hostBase = frame < vm.memory.pageCount ? vm.memory.pageBase[frame] : -1;
    // The host's own faults (an unbacked, swapped or shared page): handled, and the access retried.
    if ((hostBase < 0 || (write && vm.memory.writeBase[frame] < 0)) && this.hostFault(vcpu, frame, address, access)) return;
    if (hostBase < 0) {
      core.crash(vm, vcpu, `the guest's page table maps 0x${(address >>> 0).toString(16)} to guest-physical page 0x${frame.toString(16)}, outside the VM's memory (EPT violation)`);
      return;
    }
    // The entry is writable when the guest's PTE and the VM's map (the EPT) both allow it.
    const writable = (entry & PTE_WRITE) !== 0 && vm.memory.writeBase[frame] >= 0;
    const now = core.kernel.now;
    if (vm.paging !== 'shadow') {
      // Nested paging: the hardware walks the guest's table and the EPT; on the bare machine
      // (native), only the guest's table. No exit either way.
      const walkNs = vm.paging === 'nested' ? costs.nestedWalkNs : costs.tlbWalkNs;
      tlb.fill(page, hostBase, writable);
      vcpu.counters.cpuNs += walkNs;
      core.schedule(pcpu, Entry.ENTER, now + walkNs);
      return;
    }
    // Shadow paging maps the guest's page table read-only: reads go through the TLB, writes
    // exit and are emulated.
    const table = frame === ptb >>> PAGE_SHIFT;
    if (table && write) {
      this.emulatePageTableAccess(vcpu, frame, address, access);
      return;
    }
    const shadowWritable = writable && !table;
    const shadowEntry = hostBase | (shadowWritable ? SHADOW_WRITABLE : 0);
    const shadow = vm.shadow.table(ptb);
    tlb.fill(page, hostBase, shadowWritable);
    if (shadow[page] === shadowEntry) {
      vcpu.counters.cpuNs += costs.tlbWalkNs;
      core.schedule(pcpu, Entry.ENTER, now + costs.tlbWalkNs);
      return;
    }
    // A hidden page fault: the shadow table had no entry yet. An exit the guest never sees.
    shadow[page] = shadowEntry;
    vm.shadow.fills++;
    this.publishPageFault(vcpu, address, access, 'shadow-fill');
    core.resumeAfterExit(vcpu, costs.shadowFillNs);
  }

  /**
   * A fault that may be the host's (hostMemory.ts): a write to a shared page, the first touch of
   * an unbacked page, a swapped-out page. Returns false when it is not (an EPT violation, or the
   * guest's). The instruction is retried after the handling; a host out of memory crashes this VM.
   */
  hostFault(vcpu: Vcpu, guestPage: number, address: number, access: number): boolean {
    const core = this.core;
    // Live migration (migration/dirtyLog.ts): a store to a page pre-copy write-protected to track
    // it, or an access to a page post-copy has not brought to this host yet.
    const migration = core.options.dirtyLog?.fault(core.vmOf(vcpu), guestPage, access === Access.WRITE);
    if (migration !== undefined) {
      this.publishPageFault(vcpu, address, access, migration.cause);
      core.resumeAfterExit(vcpu, migration.ns);
      return true;
    }
    const memory = core.options.memory;
    if (memory === undefined) return false;
    const vm = core.vmOf(vcpu);
    const result = memory.handleFault(vm, guestPage, access === Access.WRITE);
    if (result.kind === 'none') return false;
    if (result.kind === 'out-of-memory') {
      core.crash(vm, vcpu, result.reason);
      return true;
    }
    this.publishPageFault(vcpu, address, access, result.cause);
    core.resumeAfterExit(vcpu, result.ns);
    return true;
  }

  /** A word at a guest-virtual address (through the guest's page table when it pages). */
  readVirtual(vcpu: Vcpu, address: number): number | undefined {
    const core = this.core;
    const vm = core.vmOf(vcpu);
    const ptb = vcpu.cpu.csr[Csr.PTB];
    if (ptb === 0) return core.readGuest(vm, address);
    const page = address >>> PAGE_SHIFT;
    if (address < 0 || page >= GUEST_VIRTUAL_PAGES) return undefined;
    const entry = core.readGuest(vm, ptb + page);
    if (entry === undefined || (entry & PTE_PRESENT) === 0) return undefined;
    return core.readGuest(vm, ((entry >>> PAGE_SHIFT) << PAGE_SHIFT) + (address & PAGE_MASK));
  }

  /** Shadow paging: the guest wrote its own (write-protected) page table. */
  private emulatePageTableAccess(vcpu: Vcpu, frame: number, address: number, access: number): void {
    const core = this.core;
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const op = this.readVirtual(vcpu, cpu.pc);
    const at = (frame << PAGE_SHIFT) + (address & PAGE_MASK);
    const swap = access === Access.WRITE && (op === Op.XCHG || op === Op.XCHGA);
    if ((access === Access.WRITE && (op === Op.ST || op === Op.STA)) || swap) {
      if (swap) {
        // xchg: the register named in the instruction's first operand takes the old entry.
        const register = (this.readVirtual(vcpu, cpu.pc + 1) ?? 0) & 7;
        const old = vm.memory.read(at);
        vm.memory.write(at, cpu.regs[register]);
        cpu.regs[register] = old;
      } else {
        vm.memory.write(at, cpu.stopC);
      }
      // The entry for guest page (address & PAGE_MASK) changed: drop its shadow and TLB entries.
      const changed = address & PAGE_MASK;
      vm.shadow.drop(cpu.csr[Csr.PTB], changed);
      for (const other of vm.vcpus) if (other.mmu !== undefined && other.mmu.ptb === cpu.csr[Csr.PTB]) other.mmu.invalidate(changed);
    } else {
      core.crash(vm, vcpu, `cannot emulate this access to the page table at pc 0x${(cpu.pc >>> 0).toString(16)}`);
      return;
    }
    cpu.pc += 4;
    vcpu.counters.completed++;
    this.publishPageFault(vcpu, address, access, 'pt-write');
    core.resumeAfterExit(vcpu, core.costs.ptEmulateNs);
  }

  /** A page fault the guest's own page table causes: the guest's kernel handles it (vector PF). */
  private guestPageFault(pcpu: Pcpu, vcpu: Vcpu, address: number, access: number): void {
    const core = this.core;
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const deliver = () => enterHandler(cpu, Vector.PF, cpu.pc, address, (at) => core.readGuest(vm, at));
    if (vm.technique.nativeExceptions) {
      if (deliver()) {
        vm.nativeExceptions++;
        core.schedule(pcpu, Entry.ENTER, core.kernel.now);
        return;
      }
      const reason = `triple fault: #PF at 0x${(address >>> 0).toString(16)} with no handler installed`;
      vcpu.recordExit('shutdown');
      core.bus.publish(vcpu.id, 'exit.shutdown', { pc: cpu.pc, reason });
      return;
    }
    this.publishPageFault(vcpu, address, access, 'guest-fault');
    if (!deliver()) {
      core.crash(vm, vcpu, `#PF (page fault) at 0x${(address >>> 0).toString(16)} with no handler installed`);
      return;
    }
    core.bus.publish(vcpu.id, 'exception.inject', { vector: Vector.PF, pc: cpu.pc });
    core.resumeAfterExit(vcpu, core.costs.exceptionReflectNs);
  }

  private publishPageFault(vcpu: Vcpu, address: number, access: number, cause: PageFaultCause): void {
    vcpu.recordExit('page-fault');
    this.core.bus.publish(vcpu.id, 'exit.page-fault', {
      pc: vcpu.cpu.pc,
      addr: address,
      access: access === 0 ? 'read' : access === 1 ? 'write' : 'fetch',
      cause,
    });
  }
}
