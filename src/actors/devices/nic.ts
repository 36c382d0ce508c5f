/**
 * The VM's NIC, on the simulation's virtual switch (src/actors/vswitch.ts). Its MAC is the VM's
 * index in the scenario + 1 (Port.NIC_MAC, in every mode). It is attached in one of three modes
 * (the scenario's `devices.nic`); ports of the interface the mode does not expose are not claimed
 * and read as the open bus.
 *
 * - **Emulated** (a register file, every access an exit emulated by the monitor):
 *   - Transmit: the guest writes the destination MAC, the guest-physical buffer and the length
 *     (words, 1..NIC_MAX_WORDS) to three ports, then writes Port.NIC_SEND. The NIC copies the
 *     packet out through the VM's own guest-physical map when that write is emulated (outside any
 *     batch) and hands it to the switch (`net.sent`). A buffer with a word outside the VM's
 *     memory, a bad length or MAC is refused (`net.dropped`, status ERROR): nothing is sent.
 *   - Receive: the switch calls `deliver` at the packet's arrival time (a kernel queue entry); the
 *     NIC queues it (at most NIC_RX_QUEUE packets, more are dropped and counted) and raises
 *     IRQ_NET. The guest reads the next packet's length (Port.NIC_RX_LENGTH) and writes a buffer
 *     address to Port.NIC_RECEIVE: the packet is copied there through the VM's map and dequeued
 *     (a buffer outside the VM's memory: status ERROR, the packet is dropped, nothing copied).
 * - **Passthrough**: the same register file reached without exits (monitor/passthrough.ts); the
 *   copies are the device's DMA through the VM's IOMMU (iommu.ts): a buffer outside the VM's
 *   memory is blocked whole and reported as `iommu.fault`, and the guest reads status ERROR.
 * - **Paravirtual** (virtio-net-like, two virtqueues in guest memory, virtqueue.ts): the guest
 *   writes the addresses of its receive and transmit queues, posts receive buffers in the receive
 *   queue, and notifies the device by writing a queue's index to Port.VIRTIO_NET_NOTIFY.
 *   - Transmit: one notification sends every available transmit descriptor ([dest MAC, buffer,
 *     length, status]); each is returned in the used ring with its status; one interrupt for the
 *     batch unless the driver suppressed it (VIRTQ_AVAIL_NO_INTERRUPT on the transmit queue).
 *   - Receive: a packet that arrives fills the next posted buffer ([source MAC, buffer, capacity,
 *     status]: the device writes the source, the length and the status) and goes to the used ring.
 *     Packets that arrive at the same instant make one batch and one interrupt (a kernel entry at
 *     that instant, after the deliveries), none when the driver suppressed it. A packet that finds
 *     no posted buffer waits in the NIC (at most NIC_RX_QUEUE) until the driver posts one and
 *     notifies the receive queue. The device keeps VIRTQ_USED_NO_NOTIFY set on the receive queue
 *     while no packet waits: posting buffers then needs no notification (it reads the ring when a
 *     packet comes), as virtio-net backends do.
 */
import type { EventBus } from '../../core/bus.js';
import type { Kernel } from '../../core/kernel.js';
import type { GuestPhysicalMap } from '../../core/memory.js';
import { Irq, NIC_MAX_WORDS, NIC_RX_QUEUE, NicStatus, Port, VirtioNetQueue } from '../../core/platform.js';
import type { AttachMode } from '../../core/scenario/schema.js';
import { Device, savedNumber, savedNumbers } from './device.js';
import type { DmaAccess, Iommu } from './iommu.js';
import type { InterruptController } from './pic.js';
import { Virtqueue } from './virtqueue.js';

export interface Packet {
  readonly src: number;
  readonly dst: number;
  readonly words: Int32Array;
}

/** What a NIC needs of the switch it is plugged into. */
export interface NetworkPort {
  transmit(from: Nic, packet: Packet): void;
}

/** The ports of the register file (emulated and passthrough) and of the paravirtual queues; NIC_MAC is in both. */
export const NIC_REGISTER_PORTS: readonly number[] = [
  Port.NIC_DEST,
  Port.NIC_BUFFER,
  Port.NIC_LENGTH,
  Port.NIC_SEND,
  Port.NIC_RX_LENGTH,
  Port.NIC_RX_SOURCE,
  Port.NIC_RECEIVE,
  Port.NIC_MAC,
];
export const NIC_VIRTIO_PORTS: readonly number[] = [Port.VIRTIO_NET_RX_QUEUE, Port.VIRTIO_NET_TX_QUEUE, Port.VIRTIO_NET_NOTIFY, Port.NIC_MAC];

export class Nic extends Device {
  readonly ports: readonly number[];
  /** 0 until the NIC is connected to a switch. */
  mac = 0;
  private network: NetworkPort | null = null;
  private dest = 0;
  private buffer = 0;
  private length = 0;
  private status: number = NicStatus.IDLE;
  /** Received packets not yet taken by the guest (emulated, passthrough) or waiting for a posted buffer (paravirtual). */
  private readonly queue: Packet[] = [];
  // The paravirtual queues (set: the driver has written the queue's address).
  private readonly rx: Virtqueue;
  private readonly tx: Virtqueue;
  private rxSet = false;
  private txSet = false;
  /** A receive interrupt is due at this instant (paravirtual: one per batch of deliveries). */
  private interruptDue = false;
  private readonly target: number;
  /** Counters: packets sent, received (queued), refused on transmit, dropped on receive, notifications, interrupt batches. */
  sent = 0;
  received = 0;
  refused = 0;
  drops = 0;
  notifications = 0;
  batches = 0;
  /** Called before the NIC writes guest memory or raises its interrupt at a delivery time (the monitor cuts this VM's running batches). */
  quiesce: () => void = () => {};

  constructor(
    id: string,
    bus: EventBus,
    private readonly pic: InterruptController,
    private readonly memory: GuestPhysicalMap,
    readonly mode: AttachMode = 'emulated',
    private readonly iommu: Iommu | null = null,
    private readonly kernel: Kernel | null = null,
  ) {
    super(id, 'nic', bus);
    this.ports = mode === 'paravirtual' ? NIC_VIRTIO_PORTS : NIC_REGISTER_PORTS;
    this.rx = new Virtqueue(memory);
    this.tx = new Virtqueue(memory);
    this.target = kernel !== null && mode === 'paravirtual' ? kernel.register(id, () => this.signalReceive()) : -1;
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
    if (port === Port.VIRTIO_NET_RX_QUEUE) return this.rx.address;
    if (port === Port.VIRTIO_NET_TX_QUEUE) return this.tx.address;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === Port.NIC_DEST) this.dest = value;
    else if (port === Port.NIC_BUFFER) this.buffer = value;
    else if (port === Port.NIC_LENGTH) this.length = value;
    else if (port === Port.NIC_SEND) this.send();
    else if (port === Port.NIC_RECEIVE) this.receive(value);
    else if (port === Port.VIRTIO_NET_RX_QUEUE) this.setReceiveQueue(value);
    else if (port === Port.VIRTIO_NET_TX_QUEUE) this.setTransmitQueue(value);
    else if (port === Port.VIRTIO_NET_NOTIFY) this.notify(value);
  }

  private send(): void {
    const words = this.length;
    const dst = this.dest;
    if (this.network === null) return this.refuseSend('the NIC is not connected to a switch');
    if (words < 1 || words > NIC_MAX_WORDS) return this.refuseSend(`length ${words} is not in 1..${NIC_MAX_WORDS}`);
    if (dst <= 0) return this.refuseSend(`destination MAC ${dst} is not valid`);
    const indexes = this.indexes(this.buffer, words, 'read');
    if (indexes === null) {
      this.status = NicStatus.ERROR;
      this.refused++;
      return;
    }
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
    const indexes = this.indexes(address, packet.words.length, 'write');
    if (indexes === null) {
      this.status = NicStatus.ERROR;
      this.drops++;
      return;
    }
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

  /**
   * The host words of `words` words at guest-physical `address`, or why one is outside the VM's
   * memory; in passthrough mode the IOMMU maps them, and null means it blocked (and reported) the DMA.
   */
  private indexes(address: number, words: number, access: DmaAccess): Int32Array | string | null {
    if (this.mode === 'passthrough' && this.iommu !== null) return this.iommu.map(this.id, address, words, access);
    const indexes = new Int32Array(words);
    for (let offset = 0; offset < words; offset++) {
      // A receive writes guest memory: a shared (read-only) page is copied for this VM first.
      const index = access === 'write' ? this.memory.translateWrite((address + offset) | 0) : this.memory.translateRead((address + offset) | 0);
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
    if (this.mode === 'paravirtual') {
      this.deliverToQueue(packet);
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

  // ------------------------------------------------------------------ paravirtual

  private setReceiveQueue(address: number): void {
    this.rx.reset(address);
    this.rxSet = this.rx.invalid() === null;
    if (!this.rxSet) return this.refuseQueue('receive', address);
    this.quiesce();
    this.rx.suppressNotifications(this.queue.length === 0);
  }

  private setTransmitQueue(address: number): void {
    this.tx.reset(address);
    this.txSet = this.tx.invalid() === null;
    if (!this.txSet) this.refuseQueue('transmit', address);
  }

  private refuseQueue(which: string, address: number): void {
    this.bus.publish(this.id, 'net.dropped', {
      src: this.mac,
      dst: 0,
      length: 0,
      reason: `the ${which} queue at guest-physical 0x${(address >>> 0).toString(16)} is not inside the VM's memory`,
    });
  }

  private notify(queue: number): void {
    this.notifications++;
    if (queue === VirtioNetQueue.TX) this.transmitQueued();
    else if (queue === VirtioNetQueue.RX) this.fillPosted();
  }

  /** Sends every available transmit descriptor; one interrupt for the batch unless suppressed. */
  private transmitQueued(): void {
    if (!this.txSet) return;
    const tx = this.tx;
    let count = tx.pending();
    if (count === 0) return;
    this.quiesce();
    for (; count > 0; count--) {
      const id = tx.take();
      const descriptor = tx.descriptor(id);
      if (descriptor < 0) {
        this.refused++;
        this.bus.publish(this.id, 'net.dropped', { src: this.mac, dst: 0, length: 0, reason: `transmit descriptor index ${id} is not a descriptor` });
      } else {
        this.dest = this.memory.read(descriptor);
        this.buffer = this.memory.read(descriptor + 1);
        this.length = this.memory.read(descriptor + 2);
        this.send();
        this.memory.write(descriptor + 3, this.status);
      }
      tx.use(id);
    }
    if (!tx.interruptSuppressed()) this.raise();
  }

  /** A packet arrived: into the next posted buffer, or to wait for one. */
  private deliverToQueue(packet: Packet): void {
    const length = packet.words.length;
    if (this.queue.length >= NIC_RX_QUEUE) {
      this.drops++;
      this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length, reason: `no receive buffer posted and ${NIC_RX_QUEUE} packets already wait for one` });
      return;
    }
    this.queue.push(packet);
    this.received++;
    this.bus.publish(this.id, 'net.delivered', { src: packet.src, dst: packet.dst, length });
    this.fillPosted();
  }

  /** Moves waiting packets into posted receive buffers; a batch signals once, at the end of this instant. */
  private fillPosted(): void {
    if (!this.rxSet || this.queue.length === 0) return;
    const rx = this.rx;
    this.quiesce();
    let filled = 0;
    while (this.queue.length > 0 && rx.pending() > 0) {
      const packet = this.queue.shift() as Packet;
      const id = rx.take();
      const descriptor = rx.descriptor(id);
      if (descriptor >= 0) this.fill(descriptor, packet);
      else this.dropReceived(packet, `receive descriptor index ${id} is not a descriptor`);
      rx.use(id);
      filled++;
    }
    // Packets still waiting need a notification when the driver posts buffers.
    rx.suppressNotifications(this.queue.length === 0);
    if (filled > 0 && !this.interruptDue && this.kernel !== null && this.target >= 0) {
      this.interruptDue = true;
      this.kernel.schedule(this.kernel.now, this.target, 0, 0);
    }
  }

  /** Copies a packet into the receive buffer of a descriptor [mac, buffer, capacity, status]. */
  private fill(descriptor: number, packet: Packet): void {
    const length = packet.words.length;
    const capacity = this.memory.read(descriptor + 2);
    if (capacity < length) {
      this.memory.write(descriptor + 3, NicStatus.ERROR);
      this.dropReceived(packet, `the receive buffer holds ${capacity} words, the packet has ${length}`);
      return;
    }
    const indexes = this.indexes(this.memory.read(descriptor + 1), length, 'write');
    if (typeof indexes === 'string' || indexes === null) {
      this.memory.write(descriptor + 3, NicStatus.ERROR);
      this.dropReceived(packet, `receive buffer: ${String(indexes)}`);
      return;
    }
    const host = this.memory.host.words;
    for (let offset = 0; offset < length; offset++) host[indexes[offset]] = packet.words[offset];
    this.memory.write(descriptor, packet.src);
    this.memory.write(descriptor + 2, length);
    this.memory.write(descriptor + 3, NicStatus.DONE);
  }

  private dropReceived(packet: Packet, reason: string): void {
    this.drops++;
    this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length: packet.words.length, reason });
  }

  /** The end of a batch of deliveries: one interrupt, unless the driver suppressed it. */
  private signalReceive(): void {
    this.interruptDue = false;
    if (!this.ready || !this.rxSet) return;
    this.batches++;
    if (!this.rx.interruptSuppressed()) {
      this.quiesce();
      this.raise();
    }
  }

  private raise(): void {
    this.pic.raise(Irq.NET);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.NET });
  }

  protected override onReset(): void {
    this.rx.reset(0);
    this.tx.reset(0);
    this.rxSet = false;
    this.txSet = false;
    this.dest = 0;
    this.buffer = 0;
    this.length = 0;
    this.status = NicStatus.IDLE;
    this.queue.length = 0;
  }

  /** Whether no receive interrupt is still to be signalled at this instant (a VM is saved only then). */
  get drained(): boolean {
    return !this.interruptDue;
  }

  /**
   * Its registers, its queues' positions and the packets waiting in its receive queue. Not its
   * MAC: that is the port the switch gives the VM it belongs to (so a clone gets its own).
   */
  override saveState(): Record<string, unknown> {
    if (!this.drained) throw new Error(`${this.id}: saved with a receive interrupt due`);
    return {
      dest: this.dest,
      buffer: this.buffer,
      length: this.length,
      status: this.status,
      rx: [this.rx.address, this.rx.lastAvail, this.rx.usedIdx, this.rxSet ? 1 : 0],
      tx: [this.tx.address, this.tx.lastAvail, this.tx.usedIdx, this.txSet ? 1 : 0],
      queue: this.queue.map((packet) => [packet.src, packet.dst, ...packet.words]),
    };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    this.dest = savedNumber(state, 'dest');
    this.buffer = savedNumber(state, 'buffer');
    this.length = savedNumber(state, 'length');
    this.status = savedNumber(state, 'status');
    const queues: [Virtqueue, number[]][] = [
      [this.rx, savedNumbers(state, 'rx')],
      [this.tx, savedNumbers(state, 'tx')],
    ];
    for (const [queue, [address, lastAvail, usedIdx]] of queues) {
      queue.address = address ?? 0;
      queue.lastAvail = lastAvail ?? 0;
      queue.usedIdx = usedIdx ?? 0;
    }
    this.rxSet = queues[0][1][3] === 1;
    this.txSet = queues[1][1][3] === 1;
    const packets = state.queue;
    if (!Array.isArray(packets)) throw new RangeError("device state: 'queue' is not a list");
    this.queue.length = 0;
    for (const entry of packets as unknown[]) {
      if (!Array.isArray(entry) || entry.length < 2 || !entry.every((word) => typeof word === 'number')) throw new RangeError('device state: a queued packet is not [src, dst, ...words]');
      const words = entry as number[];
      this.queue.push({ src: words[0], dst: words[1], words: Int32Array.from(words.slice(2)) });
    }
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      mac: this.mac,
      dest: this.dest,
      buffer: this.buffer,
      length: this.length,
      status: this.status,
      mode: this.mode,
      queued: this.queue.length,
      rx: this.rx.snapshot(),
      tx: this.tx.snapshot(),
      notifications: this.notifications,
      batches: this.batches,
      sent: this.sent,
      received: this.received,
      refused: this.refused,
      drops: this.drops,
    };
  }
}
