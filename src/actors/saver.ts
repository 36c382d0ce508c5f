/**
 * Saves a VM to an image, as libvirt's virDomainSave does: the VM is paused, its in-flight
 * device work drains (QEMU's vm_stop drains block I/O before the state is written), the image
 * is written, and the VM is shut off (`vm.stopped`, reason `saved`): a saved domain does not go
 * on running, it is restored from its image (docs/migration.md).
 *
 *   running | blocked ---save---> paused ---drained---> image written ---> shutoff (saved)
 *   other states       ---save---> vm.not-allowed (nothing changes)
 *
 * The bytes are handed to `write`; the simulation itself never touches a file. Without `write`
 * (replay) the image is computed, logged (`vm.saved` with its size and digest), and dropped.
 */
import type { EventBus } from '../core/bus.js';
import { encodeImage, imageDigest } from '../core/image/format.js';
import type { Kernel } from '../core/kernel.js';
import type { RandomSource } from '../core/prng.js';
import { ENGINE_VERSION } from '../core/version.js';
import type { Monitor } from './monitor/monitor.js';
import { captureVm, drained, unsaveableReason, type VcpuBeforePause } from './vmImage.js';
import type { Vm } from './vm.js';

/** How often a paused VM is checked for drained device work, and for how long at most. */
export const DRAIN_POLL_NS = 1_000;
export const DRAIN_LIMIT_NS = 1_000_000_000;

/** Writes an image's bytes to `file` (the CLI gives one; a failure throws). */
export type ImageWriter = (file: string, bytes: Uint8Array) => void;

interface PendingSave {
  readonly vm: Vm;
  readonly file: string;
  readonly before: readonly VcpuBeforePause[];
  readonly pausedAt: number;
}

export class VmSaver {
  private readonly target: number;
  private readonly saves: PendingSave[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly monitor: Monitor,
    private readonly random: RandomSource,
    private readonly write: ImageWriter | undefined,
  ) {
    this.target = kernel.register('saver', (_kind, index) => this.check(index));
  }

  /** Pauses `vm` and saves it to `file` once its device work has drained. */
  save(vm: Vm, file: string): void {
    const state = vm.state;
    if (state !== 'running' && state !== 'blocked') {
      this.refuse(vm, `a VM that is ${state} cannot save`);
      return;
    }
    const reason = unsaveableReason(vm);
    if (reason !== undefined) {
      this.refuse(vm, `VM ${vm.name} cannot be saved: ${reason}`);
      return;
    }
    // What each vCPU was doing, read before the pause turns them all `paused`.
    const before = vm.vcpus.map((vcpu): VcpuBeforePause => ({ runState: vcpu.state, enterInNs: this.monitor.enterInNs(vcpu), warm: this.monitor.isWarm(vcpu) }));
    if (!this.monitor.suspend(vm)) return;
    this.saves.push({ vm, file, before, pausedAt: this.kernel.now });
    this.check(this.saves.length - 1);
  }

  private check(index: number): void {
    const pending = this.saves[index];
    const { vm } = pending;
    if (vm.state !== 'paused') return;
    const waited = this.kernel.now - pending.pausedAt;
    if (!drained(vm)) {
      if (waited >= DRAIN_LIMIT_NS) {
        this.refuse(vm, `its device work did not drain within ${DRAIN_LIMIT_NS} ns; the VM goes on`);
        this.monitor.resume(vm);
        return;
      }
      this.kernel.schedule(this.kernel.now + DRAIN_POLL_NS, this.target, 0, index);
      return;
    }
    const image = captureVm(vm, pending.before, this.random, { savedAtNs: this.kernel.now, drainNs: waited });
    const bytes = encodeImage(image, ENGINE_VERSION);
    this.write?.(pending.file, bytes);
    this.bus.publish(vm.id, 'vm.saved', { file: pending.file, bytes: bytes.length, sha256: imageDigest(bytes), pages: image.memory.pages.length, drainNs: waited });
    // The unfinished console line travels in the image: the restored VM prints it, this one does not.
    vm.console.handOver();
    this.monitor.destroy(vm, 'saved');
  }

  private refuse(vm: Vm, reason: string): void {
    this.bus.publish(vm.id, 'vm.not-allowed', { command: 'save', state: vm.state, reason });
  }
}
