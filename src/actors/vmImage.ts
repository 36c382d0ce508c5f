/**
 * A VM's state as an image (src/core/image/format.ts) and back: guest memory (the pages that hold
 * a non-zero word), each vCPU's architectural state and run state, the state of every device the
 * guest can observe, and the VM's PRNG streams. See docs/migration.md.
 */
import type { VcpuImage, VmImage } from '../core/image/format.js';
import { PAGE_WORDS, PAGE_BYTES } from '../core/platform.js';
import type { RandomSource } from '../core/prng.js';
import { Mode } from '../core/isa/opcodes.js';
import type { Vm } from './vm.js';
import type { VmSpec } from '../core/scenario/schema.js';

/** What the run knew of each vCPU just before it paused the VM (the pause itself makes them all `paused`). */
export interface VcpuBeforePause {
  readonly runState: VcpuImage['runState'];
  /** Monitor.enterInNs: how long until it would have run guest code again (-1: not on its way). */
  readonly enterInNs: number;
  /** Monitor.isWarm: it was the last to run on a physical CPU. */
  readonly warm: boolean;
}

/** Why this VM cannot be saved in this model, or undefined when it can. */
export function unsaveableReason(vm: Vm): string | undefined {
  if (vm.requests !== null) return 'it serves a workload (its arrivals come from the scenario, not from the VM)';
  if (vm.balloon.size > 0) return 'its balloon holds pages (ballooned-out pages are not carried by images yet)';
  const attach = vm.options.devices;
  if (attach?.block === 'passthrough' || attach?.nic === 'passthrough') return 'it has a passthrough device (a host device cannot be saved, as with VFIO)';
  if (vm.memory.mappedPages !== vm.memory.pageCount && vm.memory.swappedWords === undefined) return 'part of its memory is not mapped';
  return undefined;
}

/** Whether the VM's in-flight device work has drained (QEMU drains block I/O before it stops a VM). */
export function drained(vm: Vm): boolean {
  return (vm.block?.drained ?? true) && (vm.nic?.drained ?? true);
}

/** The image of a paused, drained VM. */
export function captureVm(vm: Vm, before: readonly VcpuBeforePause[], random: RandomSource, info: { readonly savedAtNs: number; readonly drainNs: number }): VmImage {
  const words = vm.memory.snapshotWords();
  const pages: { page: number; words: number[] }[] = [];
  for (let page = 0; page < vm.memory.pageCount; page++) {
    const start = page * PAGE_WORDS;
    let used = false;
    for (let offset = 0; offset < PAGE_WORDS && !used; offset++) used = words[start + offset] !== 0;
    if (used) pages.push({ page, words: Array.from(words.subarray(start, start + PAGE_WORDS)) });
  }
  const devices: Record<string, Record<string, unknown>> = {};
  for (const device of vm.io.devices) devices[device.kind] = { state: device.lifecycle.state, ...device.saveState() };
  const streams = random.states();
  const prefix = `${vm.id}/`;
  const own: Record<string, number[]> = {};
  for (const id of Object.keys(streams)) if (id.startsWith(prefix)) own[id.slice(prefix.length)] = streams[id];
  const attach = vm.options.devices ?? { block: 'emulated', nic: 'emulated' };
  return {
    vm: {
      name: vm.name,
      guest: vm.options.guest,
      vcpus: vm.vcpus.length,
      memoryBytes: vm.memory.pageCount * PAGE_BYTES,
      devices: { block: attach.block, nic: attach.nic },
      lifecycle: 'paused',
      savedAtNs: info.savedAtNs,
      guestNowNs: vm.timer.guestNowNs,
      drainNs: info.drainNs,
    },
    vcpus: vm.vcpus.map((vcpu, index) => {
      const cpu = vcpu.cpu;
      return {
        runState: before[index].runState,
        enterInNs: Math.max(0, before[index].enterInNs),
        warm: before[index].warm,
        pc: cpu.pc,
        mode: cpu.mode === Mode.USER ? 1 : 0,
        ie: cpu.ie,
        regs: Array.from(cpu.regs),
        csr: Array.from(cpu.csr),
        workLeftNs: cpu.workLeftNs,
        localPending: vcpu.localPending,
        ptbWrites: cpu.ptbWrites,
      };
    }),
    memory: { pageWords: PAGE_WORDS, pages },
    devices,
    random: own,
  };
}

/**
 * Loads an image into a VM just built (not started): memory and vCPUs. The VM's PRNG streams go
 * on from the image's when the VM has the name it was saved under; a clone (another name) keeps
 * its own streams, keyed by its own name. The devices are loaded when it starts (restoreDevices).
 */
export function restoreVm(vm: Vm, image: VmImage, random: RandomSource): void {
  const host = vm.memory.host.words;
  for (const { page, words } of image.memory.pages) {
    const index = vm.memory.translateWrite(page * PAGE_WORDS);
    if (index < 0) throw new RangeError(`${vm.id}: guest page ${page} cannot be written`);
    host.set(words, index);
  }
  vm.vcpus.forEach((vcpu, index) => {
    const saved = image.vcpus[index];
    const cpu = vcpu.cpu;
    cpu.regs.set(saved.regs);
    cpu.csr.set(saved.csr);
    cpu.pc = saved.pc;
    cpu.mode = saved.mode === 1 ? Mode.USER : Mode.KERNEL;
    cpu.ie = saved.ie;
    cpu.workLeftNs = saved.workLeftNs;
    cpu.ptbWrites = saved.ptbWrites;
    vcpu.localPending = saved.localPending;
    vcpu.warmStart = saved.warm;
  });
  if (vm.name === image.vm.name) {
    for (const [id, state] of Object.entries(image.random)) random.stream(`${vm.id}/${id}`).setState(state);
  }
}

/**
 * Loads the devices' state as the restored VM starts (until then its devices are as a new VM's,
 * as the events of the log say).
 */
export function restoreDevices(vm: Vm, image: VmImage): void {
  for (const device of vm.io.devices) {
    const state = image.devices[device.kind];
    if (state !== undefined) device.loadState(state);
  }
}

/** Whether a saved vCPU was on its way to run guest code (running, or runnable). */
function wasOnCpu(vcpu: VcpuImage): boolean {
  return vcpu.runState === 'running' || vcpu.runState === 'runnable';
}

/**
 * How a restored VM started at `startNs` is placed in time: `baseNs`, the instant that stands for
 * the moment it was saved, and how late each vCPU starts. A vCPU that was about to run guest code
 * `enterInNs` after the save runs again once dispatched and entered (`dispatchNs(warm)` after its
 * start), so it must start at `baseNs + enterInNs - dispatchNs`; `baseNs` is the earliest instant
 * that lets every such vCPU do so. The guest's clock and pending timer are placed from `baseNs`,
 * so each vCPU meets them at the same point of its code as the unsaved run (given a CPU each).
 */
export function restorePlacement(image: VmImage, startNs: number, dispatchNs: (warm: boolean) => number): { readonly baseNs: number; readonly delaysNs: number[] } {
  const onCpu = image.vcpus.filter(wasOnCpu);
  if (onCpu.length === 0) return { baseNs: startNs, delaysNs: image.vcpus.map(() => 0) };
  const baseNs = startNs + Math.max(...onCpu.map((vcpu) => dispatchNs(vcpu.warm) - vcpu.enterInNs));
  return { baseNs, delaysNs: image.vcpus.map((vcpu) => (wasOnCpu(vcpu) ? baseNs + vcpu.enterInNs - dispatchNs(vcpu.warm) - startNs : 0)) };
}

/** How a scenario entry differs from the VM its image holds, or undefined when it fits. */
export function imageMismatch(spec: VmSpec, image: VmImage): string | undefined {
  if (spec.vcpus !== image.vm.vcpus || spec.memoryBytes !== image.vm.memoryBytes) {
    return `the image holds a VM of ${image.vm.vcpus} vCPU(s) and ${image.vm.memoryBytes} bytes of memory; set this VM's vcpus: ${image.vm.vcpus} and memory: ${image.vm.memoryBytes} (it has ${spec.vcpus} and ${spec.memoryBytes})`;
  }
  const attach = spec.devices ?? { block: 'emulated', nic: 'emulated' };
  if (attach.block !== image.vm.devices.block || attach.nic !== image.vm.devices.nic) {
    return `the image's devices are attached block: ${image.vm.devices.block}, nic: ${image.vm.devices.nic}; this VM's are block: ${attach.block}, nic: ${attach.nic}`;
  }
  if (spec.workload !== undefined) return 'a VM restored from an image cannot have a workload';
  return undefined;
}
