/**
 * The virtual switch, owned by the simulation: one port per VM's NIC, keyed by its MAC. A packet
 * goes only to the NIC whose MAC it is addressed to, never flooded, so no VM receives or can
 * observe another pair's traffic. It arrives after `netLatencyNs + length x netWordNs` (a kernel
 * queue entry); a packet to a MAC no NIC has is dropped at once (`net.dropped`).
 *
 * With several hosts, a packet between VMs on different hosts (where each is when it is sent)
 * then crosses the link between them: it waits for the link to be free (one transfer at a time,
 * in the order they came: a migration's round holds it for the whole round), takes its length at
 * the link's bandwidth, then the link's latency. Two hosts with no link between them cannot
 * exchange packets: the packet is dropped, saying so.
 */
import type { EventBus } from '../core/bus.js';
import type { Kernel } from '../core/kernel.js';
import type { Nic, NetworkPort, Packet } from './devices/nic.js';

/** Bytes in a packet's word. */
const WORD_BYTES = 4;

export interface NetTiming {
  readonly latencyNs: number;
  readonly wordNs: number;
}

/** The hosts' links, as the switch sees them (HostSet, with the VMs' MACs). */
export interface HostNetwork {
  /** The host the VM with this MAC is on now. */
  hostOfMac(mac: number): string;
  link(a: string, b: string): { readonly bandwidthBytesPerSecond: number; readonly latencyNs: number } | undefined;
  /** Takes the link for `durationNs` from `now` or when it is free; returns when the transfer starts. */
  reserveLink(a: string, b: string, now: number, durationNs: number): number;
}

export class VirtualSwitch implements NetworkPort {
  readonly id = 'vswitch';
  private readonly nics = new Map<number, Nic>();
  /** Packets on the wire, by the id their kernel queue entry carries. */
  private readonly inFlight = new Map<number, Packet>();
  private nextPacket = 0;
  private readonly target: number;
  forwarded = 0;
  dropped = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly timing: () => NetTiming,
    private readonly network?: HostNetwork,
  ) {
    this.target = kernel.register(this.id, (_kind, arg) => this.arrive(arg));
  }

  /** Plugs a NIC in with its MAC. */
  connect(nic: Nic, mac: number): void {
    if (mac <= 0 || this.nics.has(mac)) throw new RangeError(`MAC ${mac} is not free on the switch`);
    this.nics.set(mac, nic);
    nic.connect(this, mac);
  }

  transmit(_from: Nic, packet: Packet): void {
    if (!this.nics.has(packet.dst)) {
      this.dropped++;
      this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length: packet.words.length, reason: `unknown destination MAC ${packet.dst}` });
      return;
    }
    const timing = this.timing();
    let arrival = this.kernel.now + timing.latencyNs + packet.words.length * timing.wordNs;
    const network = this.network;
    if (network !== undefined) {
      const from = network.hostOfMac(packet.src);
      const to = network.hostOfMac(packet.dst);
      if (from !== to) {
        const link = network.link(from, to);
        if (link === undefined) {
          this.dropped++;
          this.bus.publish(this.id, 'net.dropped', { src: packet.src, dst: packet.dst, length: packet.words.length, reason: `no link between hosts ${from} and ${to}` });
          return;
        }
        const sendNs = Math.ceil((packet.words.length * WORD_BYTES * 1e9) / link.bandwidthBytesPerSecond);
        arrival = network.reserveLink(from, to, arrival, sendNs) + sendNs + link.latencyNs;
      }
    }
    const id = this.nextPacket++;
    this.inFlight.set(id, packet);
    this.kernel.schedule(arrival, this.target, 0, id);
  }

  private arrive(id: number): void {
    const packet = this.inFlight.get(id);
    if (packet === undefined) return;
    this.inFlight.delete(id);
    const nic = this.nics.get(packet.dst);
    if (nic === undefined) return;
    this.forwarded++;
    nic.deliver(packet);
  }

  snapshot(): Record<string, unknown> {
    return { ports: [...this.nics.keys()], inFlight: this.inFlight.size, forwarded: this.forwarded, dropped: this.dropped };
  }
}
