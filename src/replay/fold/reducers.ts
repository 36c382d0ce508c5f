/**
 * The reducers: how each event changes the InspectState. Pure and written immer-style: they
 * mutate the draft they are given (an immer draft, or the fold's private mutable copy) and
 * return nothing. One exhaustive `switch` on the event's type: a new event type does not compile
 * until it is handled here.
 */
import type { Draft } from 'immer';
import type { DeviceState, ExitReason, SimEvent } from '../../core/events.js';
import { RECENT_LINES } from '../../actors/devices/console.js';
import { Irq } from '../../core/platform.js';
import { exitMode, newVm, type InspectState, type PicView } from './state.js';
import { sourceOf } from './sources.js';

type S = Draft<InspectState>;
type VmDraft = S['vms'][string];
type VcpuDraft = VmDraft['vcpus'][number];

export function reduce(draft: S, event: SimEvent): void {
  draft.seq = event.seq;
  draft.t = event.t;
  switch (event.type) {
    case 'sim.started':
      draft.pcpus = Array.from({ length: event.data.pcpus }, (_, index) => ({ index, running: null, idle: true }));
      return;
    case 'sim.ended':
      draft.ended = event.data.reason;
      return;

    case 'vm.defined': {
      const name = sourceOf(event.src).vm;
      draft.vms[name] = newVm(name, event.data.vcpus, event.data.memoryBytes, event.data.guest) as VmDraft;
      return;
    }
    case 'vm.started':
    case 'vm.resumed':
    case 'vm.unblocked':
      vmOf(draft, event.src).state = 'running';
      return;
    case 'vm.suspended':
      vmOf(draft, event.src).state = 'paused';
      return;
    case 'vm.blocked':
      vmOf(draft, event.src).state = 'blocked';
      return;
    case 'vm.shutdown':
      vmOf(draft, event.src).state = 'shutdown';
      return;
    case 'vm.stopped': {
      const vm = vmOf(draft, event.src);
      vm.state = 'shutoff';
      vm.endReason = event.data.reason;
      return;
    }
    case 'vm.crashed': {
      const vm = vmOf(draft, event.src);
      vm.state = 'crashed';
      vm.endReason = event.data.reason;
      return;
    }
    case 'vm.not-allowed':
    case 'vcpu.not-allowed':
      return;

    case 'migration.started':
    case 'migration.round':
    case 'migration.stopped-copy':
    case 'migration.completed':
    case 'migration.refused':
    case 'migration.cancelled':
      reduceMigration(vmOf(draft, event.src), event);
      return;

    case 'vcpu.runnable': {
      const vcpu = leave(draft, event.src);
      vcpu.state = 'runnable';
      draft.runQueue.push(vcpu.id);
      return;
    }
    case 'vcpu.running': {
      const vcpu = leave(draft, event.src);
      vcpu.state = 'running';
      vcpu.pcpu = event.data.pcpu;
      vcpu.counters.dispatches++;
      const pcpu = draft.pcpus[event.data.pcpu];
      pcpu.running = vcpu.id;
      pcpu.idle = false;
      return;
    }
    case 'vcpu.blocked':
      leave(draft, event.src).state = 'blocked';
      return;
    case 'vcpu.paused':
      leave(draft, event.src).state = 'paused';
      return;
    case 'vcpu.halted':
      leave(draft, event.src).state = 'halted';
      return;
    case 'vcpu.crashed':
      leave(draft, event.src).state = 'crashed';
      return;
    case 'pcpu.idle':
      draft.pcpus[event.data.pcpu].idle = true;
      return;

    case 'exit.io':
    case 'exit.mmio':
    case 'exit.hlt':
    case 'exit.hypercall':
    case 'exit.page-fault':
    case 'exit.shutdown':
    case 'exit.preempt':
    case 'exit.interrupt':
      exit(draft, event.src, event.type.slice(5) as ExitReason, event.data.pc, undefined);
      return;
    case 'exit.privileged':
    case 'exit.exception':
      exit(draft, event.src, event.type.slice(5) as ExitReason, event.data.pc, event.data.mode);
      return;

    case 'irq.raise': {
      const source = sourceOf(event.src);
      const vm = draft.vms[source.vm];
      if (vm === undefined) return;
      addLine(vm.devices.pic, 'pending', event.data.line);
      if (source.device === 'timer') vm.devices.timer.fired++;
      return;
    }
    case 'backend.queued': {
      // The device's irq.raise just before it was diverted: the line is not pending on its VM
      // (unless dom0's backend latched it before and it waits to be injected).
      const pic = draft.vms[event.data.vm]?.devices.pic;
      if (pic !== undefined && !(pic.latched ?? []).includes(event.data.line)) removeLine(pic, 'pending', event.data.line);
      return;
    }
    case 'backend.done': {
      const pic = draft.vms[event.data.vm]?.devices.pic;
      if (pic === undefined) return;
      addLine(pic, 'pending', event.data.line);
      const latched = pic.latched ?? [];
      if (!latched.includes(event.data.line)) pic.latched = [...latched, event.data.line].sort((a, b) => a - b);
      return;
    }
    case 'irq.inject': {
      const source = sourceOf(event.src);
      const vm = draft.vms[source.vm];
      // An inter-processor interrupt is the vCPU's own (no controller line, no end of interrupt).
      if (event.data.line !== Irq.IPI) {
        const pic = vm.devices.pic;
        removeLine(pic, 'pending', event.data.line);
        unlatch(pic, event.data.line);
        addLine(pic, 'inService', event.data.line);
      }
      vm.vcpus[source.vcpu].counters.interrupts++;
      vm.counters.interrupts++;
      return;
    }
    case 'irq.ipi':
    case 'irq.posted':
      // The line stays pending until the vCPU takes it (irq.inject); no exit to count.
      return;
    case 'irq.eoi':
      removeLine(vmOf(draft, event.src).devices.pic, 'inService', event.data.line);
      return;
    case 'exception.inject': {
      const source = sourceOf(event.src);
      const vm = draft.vms[source.vm];
      vm.vcpus[source.vcpu].counters.exceptions++;
      vm.counters.exceptions++;
      return;
    }

    case 'console.output': {
      const console = vmOf(draft, event.src).console;
      console.lines++;
      if (console.last.push(event.data.text) > RECENT_LINES) console.last.shift();
      return;
    }
    case 'vm.restored': {
      const vm = vmOf(draft, event.src);
      vm.devices.timer.mode = event.data.timer.mode;
      vm.devices.timer.ns = event.data.timer.ns;
      vm.devices.pic.pending = [...event.data.pending];
      vm.devices.pic.inService = [...event.data.inService];
      return;
    }
    case 'timer.armed': {
      const timer = vmOf(draft, event.src).devices.timer;
      timer.mode = event.data.mode;
      timer.ns = event.data.ns;
      return;
    }
    case 'device.ready':
      setDevice(draft, event.src, 'ready');
      return;
    case 'device.stopped':
      setDevice(draft, event.src, 'stopped');
      return;
    case 'device.failed':
      setDevice(draft, event.src, 'failed');
      return;
    case 'device.reset': {
      const vm = vmOf(draft, event.src);
      const kind = sourceOf(event.src).device;
      setDevice(draft, event.src, 'ready');
      if (kind === 'timer') {
        vm.devices.timer.mode = 'off';
        vm.devices.timer.ns = 0;
      }
      return;
    }
    case 'dma.done':
    case 'dma.blocked':
    case 'iommu.fault':
    case 'blk.done':
    case 'blk.refused':
    case 'balloon.target':
    case 'balloon.released':
    case 'balloon.refused':
    case 'memory.scan':
    case 'memory.swap-out':
    case 'memory.freed':
    case 'memory.balloon':
    case 'net.sent':
    case 'net.delivered':
    case 'net.dropped':
    case 'req.started':
    case 'req.done':
    case 'req.refused':
    case 'req.invalid':
    case 'backend.taken':
    case 'backend.invalid':
    case 'vm.pool-moved':
    case 'vm.saved':
      // Which cpupool a VM is in is the scheduler's business; its vCPUs' runs say where they ran.
      // The saved image is a file outside the run; the VM's shutoff follows as vm.stopped.
      // The DMA engine, the IOMMU, the block device, the balloon, the NIC and the host's memory
      // manager are not part of the folded view (their effect is on memory, by digest).
      return;
    case 'host.process':
    case 'input.console':
    case 'input.fault':
    case 'input.stop':
    case 'input.balloon':
    case 'input.cpupool':
    case 'input.migrate':
    case 'input.request':
    case 'input.save':
      // Input records: their effects arrive as their own events (irq.raise, device.failed...).
      return;
    default: {
      const unhandled: never = event;
      throw new Error(`no reducer for event type ${(unhandled as SimEvent).type}`);
    }
  }
}

/** MigrationEvent: the events of a live migration, folded into the VM's `migration` view (also from a checkpoint's record, checkpoint.ts). */
export type MigrationEvent = Extract<SimEvent, { type: 'migration.started' | 'migration.round' | 'migration.stopped-copy' | 'migration.completed' | 'migration.refused' | 'migration.cancelled' }>;

export function reduceMigration(vm: VmDraft, event: Pick<MigrationEvent, 'type' | 'data'>): void {
  const typed = event as MigrationEvent;
  switch (typed.type) {
    case 'migration.started': {
      vm.migration = {
        from: typed.data.from,
        to: typed.data.to,
        state: 'copying',
        reason: null,
        rounds: [],
        totalNs: null,
        downtimeNs: null,
        pagesSent: null,
        pagesResent: null,
        dirtyFaults: null,
      };
      return;
    }
    case 'migration.round': {
      const migration = vm.migration;
      if (migration !== undefined) {
        const { round, pagesSent, pagesDirtied, durationNs, throttle } = typed.data;
        migration.rounds.push({ round, pagesSent, pagesDirtied, durationNs, throttle });
      }
      return;
    }
    case 'migration.stopped-copy': {
      const migration = vm.migration;
      if (migration !== undefined) migration.state = 'stopped-copy';
      return;
    }
    case 'migration.completed': {
      const migration = vm.migration;
      if (migration !== undefined) {
        migration.state = 'completed';
        migration.totalNs = typed.data.totalNs;
        migration.downtimeNs = typed.data.downtimeNs;
        migration.pagesSent = typed.data.pagesSent;
        migration.pagesResent = typed.data.pagesResent;
        migration.dirtyFaults = typed.data.dirtyFaults;
      }
      return;
    }
    case 'migration.refused':
    case 'migration.cancelled': {
      const state = typed.type === 'migration.refused' ? 'refused' : 'cancelled';
      if (state === 'cancelled' && vm.migration !== undefined) {
        vm.migration.state = state;
        vm.migration.reason = typed.data.reason;
      } else {
        vm.migration = { from: '', to: typed.data.to, state, reason: typed.data.reason, rounds: [], totalNs: null, downtimeNs: null, pagesSent: null, pagesResent: null, dirtyFaults: null };
      }
      return;
    }
  }
}

function vmOf(draft: S, src: string): VmDraft {
  const vm = draft.vms[sourceOf(src).vm];
  if (vm === undefined) throw new Error(`event from ${src}: no such VM was defined`);
  return vm;
}

function vcpuOf(draft: S, src: string): VcpuDraft {
  const source = sourceOf(src);
  const vcpu = draft.vms[source.vm]?.vcpus[source.vcpu];
  if (vcpu === undefined) throw new Error(`event from ${src}: no such vCPU`);
  return vcpu;
}

/** The vCPU leaves its physical CPU and the run queue, whatever it does next. */
function leave(draft: S, src: string): VcpuDraft {
  const vcpu = vcpuOf(draft, src);
  if (vcpu.pcpu !== null) {
    const pcpu = draft.pcpus[vcpu.pcpu];
    if (pcpu.running === vcpu.id) pcpu.running = null;
    vcpu.pcpu = null;
  }
  if (vcpu.state === 'runnable') {
    const queue = draft.runQueue;
    const at = queue[0] === vcpu.id ? 0 : queue.indexOf(vcpu.id);
    if (at === 0) queue.shift();
    else if (at > 0) queue.splice(at, 1);
  }
  return vcpu;
}

function exit(draft: S, src: string, reason: ExitReason, pc: number, mode: 'kernel' | 'user' | undefined): void {
  const source = sourceOf(src);
  const vm = draft.vms[source.vm];
  const vcpu = vm.vcpus[source.vcpu];
  vcpu.counters.exits[reason]++;
  vm.counters.exits[reason]++;
  vm.counters.exitsTotal++;
  vcpu.lastExit = { reason, pc, mode: exitMode(reason, mode) };
}

/** Sets a device's lifecycle state (a device kind the state does not model is ignored). */
function setDevice(draft: S, src: string, state: DeviceState): void {
  const vm = vmOf(draft, src);
  const found = (vm.devices as Record<string, { state: DeviceState } | undefined>)[sourceOf(src).device];
  if (found !== undefined) found.state = state;
}

function addLine(pic: Draft<PicView>, key: 'pending' | 'inService', line: number): void {
  const lines = pic[key];
  if (lines.includes(line)) return;
  lines.push(line);
  if (lines.length > 1) lines.sort((a, b) => a - b);
}

function unlatch(pic: Draft<PicView>, line: number): void {
  if (pic.latched === undefined || !pic.latched.includes(line)) return;
  const rest = pic.latched.filter((latched) => latched !== line);
  if (rest.length === 0) delete pic.latched;
  else pic.latched = rest;
}

function removeLine(pic: Draft<PicView>, key: 'pending' | 'inService', line: number): void {
  const lines = pic[key];
  const at = lines.indexOf(line);
  if (at >= 0) lines.splice(at, 1);
}
