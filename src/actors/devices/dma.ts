/**
 * A DMA copy engine, the smallest device that reaches guest memory on its own: the guest writes a
 * source, a destination and a length (guest-physical addresses and a count of words) to its
 * ports, then anything to the "go" port, and the engine copies the words. Every address goes
 * through the IOMMU, which here is the VM's own guest-physical map: a transfer that touches a
 * word outside the VM's memory is blocked whole (`dma.blocked`), and memory is left untouched.
 *
 * The copy is done when the "go" write is emulated (an exit already charges the access), in one
 * step, outside any batch of guest instructions, so no undo log is involved.
 */
import type { EventBus } from '../../core/bus.js';
import type { GuestPhysicalMap } from '../../core/memory.js';
import { DMA_LIMIT_WORDS, DmaStatus, Port } from '../../core/platform.js';
import { Device, savedNumber } from './device.js';

export class DmaEngine extends Device {
  readonly ports = [Port.DMA_SOURCE, Port.DMA_DESTINATION, Port.DMA_LENGTH, Port.DMA_GO];
  private source = 0;
  private destination = 0;
  private length = 0;
  private status: number = DmaStatus.IDLE;
  transfers = 0;
  blocked = 0;

  constructor(
    id: string,
    bus: EventBus,
    private readonly memory: GuestPhysicalMap,
  ) {
    super(id, 'dma', bus);
  }

  read(port: number): number {
    if (port === Port.DMA_SOURCE) return this.source;
    if (port === Port.DMA_DESTINATION) return this.destination;
    if (port === Port.DMA_LENGTH) return this.length;
    return this.status;
  }

  write(port: number, value: number): void {
    if (port === Port.DMA_SOURCE) this.source = value;
    else if (port === Port.DMA_DESTINATION) this.destination = value;
    else if (port === Port.DMA_LENGTH) this.length = value;
    else this.transfer();
  }

  private transfer(): void {
    const words = this.length;
    const source = this.source;
    const destination = this.destination;
    if (words < 0 || words > DMA_LIMIT_WORDS) {
      this.refuse(`length ${words} is not in 0..${DMA_LIMIT_WORDS}`);
      return;
    }
    // Check the whole transfer before copying a word, so a blocked one changes nothing.
    const from = new Int32Array(words);
    const to = new Int32Array(words);
    for (let offset = 0; offset < words; offset++) {
      const read = this.translate((source + offset) | 0);
      const written = this.translate((destination + offset) | 0, true);
      if (read < 0 || written < 0) {
        const address = read < 0 ? source + offset : destination + offset;
        this.refuse(`guest-physical address 0x${(address >>> 0).toString(16)} is outside the VM's memory`);
        return;
      }
      from[offset] = read;
      to[offset] = written;
    }
    const host = this.memory.host.words;
    // memmove semantics: a forward copy unless the destination overlaps ahead of the source.
    if (destination > source) for (let offset = words - 1; offset >= 0; offset--) host[to[offset]] = host[from[offset]];
    else for (let offset = 0; offset < words; offset++) host[to[offset]] = host[from[offset]];
    this.status = DmaStatus.DONE;
    this.transfers++;
    this.bus.publish(this.id, 'dma.done', { src: source, dst: destination, words });
  }

  /**
   * The IOMMU: the host word a guest-physical address reaches, or -1 outside the VM. A component
   * seam (parts.ts): the testing layer's mutants may wrap it on an instance.
   */
  translate(address: number, write = false): number {
    // A write to a page shared with other VMs (read-only) gives this VM its own copy first.
    return write ? this.memory.translateWrite(address) : this.memory.translateRead(address);
  }

  private refuse(reason: string): void {
    this.status = DmaStatus.BLOCKED;
    this.blocked++;
    this.bus.publish(this.id, 'dma.blocked', { src: this.source, dst: this.destination, words: this.length, reason });
  }

  protected override onReset(): void {
    this.source = 0;
    this.destination = 0;
    this.length = 0;
    this.status = DmaStatus.IDLE;
  }

  override saveState(): Record<string, unknown> {
    return { source: this.source, destination: this.destination, length: this.length, status: this.status };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    this.source = savedNumber(state, 'source');
    this.destination = savedNumber(state, 'destination');
    this.length = savedNumber(state, 'length');
    this.status = savedNumber(state, 'status');
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      src: this.source,
      dst: this.destination,
      words: this.length,
      status: this.status,
      transfers: this.transfers,
      blocked: this.blocked,
    };
  }
}
