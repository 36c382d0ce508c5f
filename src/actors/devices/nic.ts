/**
 * The VM's NIC, on the simulation's virtual switch (src/actors/vswitch.ts). Its MAC is the VM's
 * index in the scenario + 1.
 *
 * - **Transmit**: the guest writes the destination MAC, the guest-physical buffer and the length
 *   (words, 1..NIC_MAX_WORDS) to three ports, then writes Port.NIC_SEND. The NIC copies the packet
 *   out through the VM's own guest-physical map when that write is emulated (as the DMA engine
 *   does, outside any batch) and hands it to the switch (`net.sent`). A buffer with a word outside
 *   the VM's memory, a bad length or MAC is refused (`net.dropped`, status ERROR): nothing is sent.
 * - **Receive**: the switch calls `deliver` at the packet's arrival time (a kernel queue entry);
 *   the NIC queues it (at most NIC_RX_QUEUE packets, more are dropped and counted) and raises
 *   IRQ_NET. The guest reads the next packet's length (Port.NIC_RX_LENGTH) and writes a buffer
 *   address to Port.NIC_RECEIVE: the packet is copied there through the VM's map and dequeued
 *   (a buffer outside the VM's memory: status ERROR, the packet is dropped, nothing copied).
 */
import type { EventBus } from '../../core/bus.js';
import type { GuestPhysicalMap } from '../../core/memory.js';
import { Irq, NIC_MAX_WORDS, NIC_RX_QUEUE, NicStatus, Port } from '../../core/platform.js';
import { Device } from './device.js';
import type { InterruptController } from './pic.js';

export interface Packet {
  readonly src: number;
  readonly dst: number;
  readonly words: Int32Array;
}

/** What a NIC needs of the switch it is plugged into. */
export interface NetworkPort {
  transmit(from: Nic, packet: Packet): void;
}

export class Nic extends Device {
  readonly ports = [Port.NIC_DEST, Port.NIC_BUFFER, Port.NIC_LENGTH, Port.NIC_SEND, Port.NIC_RX_LENGTH, Port.NIC_RX_SOURCE, Port.NIC_RECEIVE, Port.NIC_MAC];
  /** 0 until the NIC is connected to a switch. */
  mac = 0;
  private network: NetworkPort | null = null;
  private dest = 0;
  private buffer = 0;
  private length = 0;
  private status: number = NicStatus.IDLE;
  private readonly queue: Packet[] = [];
  /** Counters: packets sent, received (queued), refused on transmit, dropped on receive. */
  sent = 0;
  received = 0;
  refused = 0;
  drops = 0;
  /** Called before the NIC raises its interrupt at a delivery time (the monitor cuts this VM's running batches). */
  quiesce: () => void = () => {};

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
    private readonly memory: GuestPhysicalMap,
  ) {
    super(id, 'nic', bus);
  }

  /** Plugs the NIC into a switch port with its MAC. */
  connect(network: NetworkPort, mac: number): void {
    this.network = network;
    this.mac = mac;
  }

  read(port: number): number {
    if (port === Port.NIC_DEST) return this.dest;
    if (port === Port.NIC_BUFFER) return this.buffer;
    if (port === Port.NIC_LENGTH) return this.length;
    if (port === Port.NIC_SEND) return this.status;
    if (port === Port.NIC_RX_LENGTH) return this.queue.length > 0 ? this.queue[0].words.length : 0;
    if (port === Port.NIC_RX_SOURCE) return this.queue.length > 0 ? this.queue[0].src : 0;
    if (port === Port.NIC_MAC) return this.mac;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === Port.NIC_DEST) this.dest = value;
    else if (port === Port.NIC_BUFFER) this.buffer = value;
    else if (port === Port.NIC_LENGTH) this.length = value;
    else if (port === Port.NIC_SEND) this.send();
    else if (port === Port.NIC_RECEIVE) this.receive(value);
  }

  private send(): void {
    const words = this.length;
    const dst = this.dest;
    if (this.network === null) return this.refuseSend('the NIC is not connected to a switch');
    if (words < 1 || words > NIC_MAX_WORDS) return this.refuseSend(`length ${words} is not in 1..${NIC_MAX_WORDS}`);
    if (dst <= 0) return this.refuseSend(`destination MAC ${dst} is not valid`);
    const indexes = this.indexes(this.buffer, words);
    if (typeof indexes === 'string') return this.refuseSend(`transmit buffer: ${indexes}`);
    const host = this.memory.host.words;
    const data = new Int32Array(words);
    for (let offset = 0; offset < words; offset++) data[offset] = host[indexes[offset]];
    this.status = NicStatus.DONE;
    this.sent++;
    this.bus.publish(this.id, 'net.sent', { src: this.mac, dst, length: words });
    this.network.transmit(this, { src: this.mac, dst, words: data });
  }

  private receive(address: number): void {
    const packet = this.queue.shift();
    if (packet === undefined) {
      this.status = NicStatus.ERROR;
      return;
    }
    const indexes = this.indexes(address, packet.words.length, true);
    if (typeof indexes === 'string') {
      this.status = NicStatus.ERROR;
      this.drops++;
      this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length: packet.words.length, reason: `receive buffer: ${indexes}` });
      return;
    }
    const host = this.memory.host.words;
    for (let offset = 0; offset < indexes.length; offset++) host[indexes[offset]] = packet.words[offset];
    this.status = NicStatus.DONE;
  }

  /** The host words of `words` words at guest-physical `address`, or why one is outside the VM's memory. */
  private indexes(address: number, words: number, write = false): Int32Array | string {
    const indexes = new Int32Array(words);
    for (let offset = 0; offset < words; offset++) {
      // A receive writes guest memory: a shared (read-only) page is copied for this VM first.
      const index = write ? this.memory.translateWrite((address + offset) | 0) : this.memory.translate((address + offset) | 0);
      if (index < 0) return `guest-physical address 0x${((address + offset) >>> 0).toString(16)} is outside the VM's memory`;
      indexes[offset] = index;
    }
    return indexes;
  }

  private refuseSend(reason: string): void {
    this.status = NicStatus.ERROR;
    this.refused++;
    this.bus.publish(this.id, 'net.dropped', { src: this.mac, dst: this.dest, length: this.length, reason });
  }

  /** The switch hands over a packet addressed to this NIC (at its arrival time). */
  deliver(packet: Packet): void {
    const length = packet.words.length;
    if (!this.ready) {
      this.drops++;
      this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length, reason: `the receiving NIC is ${this.lifecycle.state}` });
      return;
    }
    if (this.queue.length >= NIC_RX_QUEUE) {
      this.drops++;
      this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length, reason: `the receive queue is full (${NIC_RX_QUEUE} packets)` });
      return;
    }
    this.queue.push(packet);
    this.received++;
    this.bus.publish(this.id, 'net.delivered', { src: packet.src, dst: packet.dst, length });
    this.quiesce();
    this.pic.raise(Irq.NET);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.NET });
  }

  protected override onReset(): void {
    this.dest = 0;
    this.buffer = 0;
    this.length = 0;
    this.status = NicStatus.IDLE;
    this.queue.length = 0;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      mac: this.mac,
      dest: this.dest,
      buffer: this.buffer,
      length: this.length,
      status: this.status,
      queued: this.queue.length,
      sent: this.sent,
      received: this.received,
      refused: this.refused,
      drops: this.drops,
    };
  }
}
