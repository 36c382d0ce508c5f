/**
 * The VM's memory balloon (virtio-balloon reduced to three ports). The monitor sets a target, the
 * number of pages it wants back in all, and raises IRQ_BALLOON; the guest's balloon driver reads
 * how many pages are still asked for (Port.BALLOON_TARGET) and gives back pages it does not use,
 * one guest-physical page number per write to Port.BALLOON_GIVE. The monitor (`onGive`) unmaps
 * each page from the VM's guest-physical map and releases its host frame; a later access to the
 * page is an EPT violation. Deflating (giving pages back to the guest) is not modelled: a target
 * below the pages already given leaves them given.
 *
 * `driver` says whether the guest runs a balloon driver, observed the way a virtio device sees
 * DRIVER_OK: the guest has accessed one of the balloon's ports. The host's own balloon policy
 * (hostBalloons.ts) asks only such VMs, since a guest without a driver has no handler for
 * IRQ_BALLOON.
 */
import type { EventBus } from '../../core/bus.js';
import { Irq, Port } from '../../core/platform.js';
import { Device, savedNumber } from './device.js';
import type { InterruptController } from './pic.js';

export class Balloon extends Device {
  readonly ports = [Port.BALLOON_TARGET, Port.BALLOON_GIVE, Port.BALLOON_SIZE];
  /** Pages the monitor wants back in all. */
  target = 0;
  /** Pages given back so far. */
  size = 0;
  /** The guest has accessed the balloon's ports: it runs a balloon driver. */
  driver = false;
  /** The monitor's handler for a page the guest gives back: true when it took the page. */
  onGive: (page: number) => boolean = () => false;

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
  ) {
    super(id, 'balloon', bus);
  }

  /** The monitor asks for `pages` pages in all and tells the guest with an interrupt. */
  setTarget(pages: number): void {
    this.target = Math.max(0, Math.floor(pages));
    this.bus.publish(this.id, 'balloon.target', { target: this.target });
    if (!this.ready) return;
    this.pic.raise(Irq.BALLOON);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.BALLOON });
  }

  read(port: number): number {
    this.driver = true;
    if (port === Port.BALLOON_TARGET) return Math.max(0, this.target - this.size);
    if (port === Port.BALLOON_SIZE) return this.size;
    return 0;
  }

  write(port: number, value: number): void {
    this.driver = true;
    if (port !== Port.BALLOON_GIVE) return;
    if (this.size >= this.target) {
      this.bus.publish(this.id, 'balloon.refused', { page: value, reason: `the balloon already holds its target of ${this.target} pages` });
      return;
    }
    if (this.onGive(value)) this.size++;
  }

  /** Its target and whether a driver runs (a VM that has given pages back is not saved: see vmImage.ts). */
  override saveState(): Record<string, unknown> {
    return { target: this.target, driver: this.driver };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    this.target = savedNumber(state, 'target');
    this.driver = state.driver === true;
  }

  snapshot(): Record<string, unknown> {
    return { state: this.lifecycle.state, target: this.target, size: this.size, driver: this.driver };
  }
}
