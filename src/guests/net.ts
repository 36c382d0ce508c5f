/**
 * Guests that talk over the virtual switch (src/actors/vswitch.ts): `net-ping` sends COUNT packets
 * of WORDS words to MAC PEER, word j of packet i being 0x100000 + 256 i + j, and waits for each
 * reply; `net-pong` receives COUNT packets, checks each against that pattern and sends it back to
 * PEER with every word plus one, which `net-ping` checks. Both wait for a packet in hlt (woken by
 * IRQ_NET), print "NAME: COUNT packets, E errors" and power off. They drive the NIC's register
 * file (attach mode emulated or passthrough).
 *
 * `net-ping-pv` and `net-pong-pv` exchange the same packets through the paravirtual NIC's queues
 * (attach mode paravirtual): the ping posts COUNT receive buffers, puts all COUNT packets in its
 * transmit queue and notifies once; the pong answers each batch of received packets with one
 * batch of replies and one notification. Neither asks for transmit interrupts
 * (VIRTQ_AVAIL_NO_INTERRUPT), and neither notifies the receive queue while the device says it
 * needs no notification (VIRTQ_USED_NO_NOTIFY). COUNT is at most 16 (the queue's size).
 */
import { PUTD, PUTS } from './lib.js';

export const NET_DEFAULTS: Readonly<Record<string, number>> = { PEER: 2, COUNT: 4, WORDS: 16 };

/** The pattern, the interrupt handler (which skips the hlt at halt_at), the report, the vectors. */
const NET_SHARED = String.raw`
expected:                       ; r1 = 0x100000 + 256 x r5 + r2; clobbers r4
        movi r4, 8
        shl r1, r5, r4
        add r1, r1, r2
        movi r4, 0x100000
        add r1, r1, r4
        ret
on_net:                         ; a packet arrived: wake from hlt
        push r1
        push r2
        movi r1, IRQ_NET
        out PORT_PIC_EOI, r1
        csrr r1, epc            ; interrupted just before the hlt: skip it
        movi r2, halt_at
        bne r1, r2, on_net_ret
        addi r1, r1, 4
        csrw epc, r1
on_net_ret:
        pop r2
        pop r1
        iret
report:
        movi r1, msg_name
        call puts
        movi r1, COUNT
        call putd
        movi r1, msg_packets
        call puts
        mov r1, r6
        call putd
        movi r1, msg_errors
        call puts
        out PORT_POWER, r0
        hlt
${PUTS}${PUTD}msg_packets: .string " packets, "
msg_errors: .string " errors\n"
vectors:
        .space VEC_IRQ_BASE + IRQ_NET
        .word on_net
        .space VECTOR_COUNT - (VEC_IRQ_BASE + IRQ_NET) - 1
`;

/** receive (wait for a packet, copy it to rxbuf, r1 = its length; clobbers r2), send, the buffers. */
const NET_COMMON = String.raw`
receive:
        cli
        in r1, PORT_NIC_RX_LENGTH
        jnz r1, rx_take
        sti
halt_at:
        hlt
        jmp receive
rx_take:
        movi r2, rxbuf
        out PORT_NIC_RECEIVE, r2
        ret
send:                           ; sends WORDS words of txbuf to PEER
        movi r1, PEER
        out PORT_NIC_DEST, r1
        movi r1, txbuf
        out PORT_NIC_BUFFER, r1
        movi r1, WORDS
        out PORT_NIC_LENGTH, r1
        out PORT_NIC_SEND, r1
        ret
${NET_SHARED}txbuf:  .space WORDS
rxbuf:  .space WORDS
`;

export const NET_PING_SOURCE = String.raw`
; net-ping: sends COUNT packets of WORDS words to MAC PEER and checks each reply (every word + 1)
; params: PEER, COUNT, WORDS
_start:
        movi r1, vectors
        csrw ivt, r1
        movi r5, 0              ; r5 = packet
        movi r6, 0              ; r6 = errors
next:
        movi r1, COUNT
        bge r5, r1, report
        movi r2, 0
fill:
        call expected
        addi r3, r2, txbuf
        st r1, [r3]
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, fill
        call send
        call receive
        movi r4, WORDS
        beq r1, r4, length_ok
        addi r6, r6, 1
length_ok:
        movi r2, 0
compare:
        call expected
        addi r1, r1, 1
        addi r3, r2, rxbuf
        ld r4, [r3]
        beq r1, r4, word_ok
        addi r6, r6, 1
word_ok:
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, compare
        addi r5, r5, 1
        jmp next
${NET_COMMON}msg_name:   .string "net-ping: "
`;

export const NET_PONG_SOURCE = String.raw`
; net-pong: receives COUNT packets, checks each, sends it back to MAC PEER with every word + 1
; params: PEER, COUNT, WORDS
_start:
        movi r1, vectors
        csrw ivt, r1
        movi r5, 0              ; r5 = packet
        movi r6, 0              ; r6 = errors
next:
        movi r1, COUNT
        bge r5, r1, report
        call receive
        movi r4, WORDS
        beq r1, r4, length_ok
        addi r6, r6, 1
length_ok:
        movi r2, 0
answer:
        call expected
        addi r3, r2, rxbuf
        ld r4, [r3]
        beq r1, r4, word_ok
        addi r6, r6, 1
word_ok:
        addi r4, r4, 1
        addi r3, r2, txbuf
        st r4, [r3]
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, answer
        call send
        addi r5, r5, 1
        jmp next
${NET_COMMON}msg_name:   .string "net-pong: "
`;

/** Shared by the paravirtual guests: queue layout, setup and receive-buffer posting, buffers. */
const NET_PV_SETUP = String.raw`
        .equ VQ_AVAIL, 64       ; platform.ts: VIRTQ_AVAIL
        .equ VQ_USED, 82        ; platform.ts: VIRTQ_USED
        .equ NET_DONE, 1        ; platform.ts: NicStatus.DONE
_start:
        movi r1, vectors
        csrw ivt, r1
        movi r1, rxq
        out PORT_VIRTIO_NET_RX_QUEUE, r1
        movi r1, txq
        out PORT_VIRTIO_NET_TX_QUEUE, r1
        movi r1, 1
        st r1, [txq + VQ_AVAIL]         ; no interrupt for transmit completions
        movi r5, 0
post:                           ; receive descriptor r5 = [0, rxbufs + WORDS x r5, WORDS, 0]
        movi r1, COUNT
        bge r5, r1, posted
        movi r2, 4
        mul r2, r5, r2
        addi r2, r2, rxq
        movi r1, 0
        st r1, [r2]
        movi r3, WORDS
        mul r3, r5, r3
        addi r3, r3, rxbufs
        st r3, [r2 + 1]
        movi r1, WORDS
        st r1, [r2 + 2]
        movi r1, 0
        st r1, [r2 + 3]
        addi r2, r5, rxq + VQ_AVAIL + 2
        st r5, [r2]             ; avail.ring[r5] = descriptor r5
        addi r5, r5, 1
        jmp post
posted:
        movi r1, COUNT
        st r1, [rxq + VQ_AVAIL + 1]     ; every buffer posted at once
        ld r1, [rxq + VQ_USED]          ; the device reads the ring when a packet comes: no notification
        movi r2, 1
        and r1, r1, r2
        jnz r1, setup_done
        movi r1, 0                      ; VirtioNetQueue.RX
        out PORT_VIRTIO_NET_NOTIFY, r1
setup_done:
        movi r5, 0              ; r5 = packet
        movi r6, 0              ; r6 = errors
        jmp main
tx_descriptor:                  ; transmit descriptor r5 = [PEER, txbufs + WORDS x r5, WORDS, 0], avail.ring[r5] = r5
        movi r2, 4
        mul r2, r5, r2
        addi r2, r2, txq
        movi r1, PEER
        st r1, [r2]
        movi r3, WORDS
        mul r3, r5, r3
        addi r3, r3, txbufs
        st r3, [r2 + 1]
        movi r1, WORDS
        st r1, [r2 + 2]
        movi r1, 0
        st r1, [r2 + 3]
        addi r2, r5, txq + VQ_AVAIL + 2
        st r5, [r2]
        ret
kick_tx:                        ; avail.idx = r5, then one notification unless the device needs none
        st r5, [txq + VQ_AVAIL + 1]
        ld r1, [txq + VQ_USED]
        movi r2, 1
        and r1, r1, r2
        jnz r1, kick_done
        movi r1, 1                      ; VirtioNetQueue.TX
        out PORT_VIRTIO_NET_NOTIFY, r1
kick_done:
        ret
rx_header:                      ; r6 += errors of receive descriptor r5: status DONE, length WORDS, source PEER
        movi r2, 4
        mul r2, r5, r2
        addi r2, r2, rxq
        ld r1, [r2 + 3]
        movi r3, NET_DONE
        beq r1, r3, rx_status_ok
        addi r6, r6, 1
rx_status_ok:
        ld r1, [r2 + 2]
        movi r3, WORDS
        beq r1, r3, rx_length_ok
        addi r6, r6, 1
rx_length_ok:
        ld r1, [r2]
        movi r3, PEER
        beq r1, r3, rx_source_ok
        addi r6, r6, 1
rx_source_ok:
        ret
`;

const NET_PV_BUFFERS = String.raw`
        .org 0x1000
rxq:    .space 128
txq:    .space 128
rxbufs: .space WORDS * COUNT
txbufs: .space WORDS * COUNT
`;

export const NET_PING_PV_SOURCE = String.raw`
; net-ping-pv: sends COUNT packets of WORDS words to MAC PEER through the paravirtual NIC in one
; batch (one notification) and checks each reply (every word + 1)
; params: PEER, COUNT (at most 16), WORDS
${NET_PV_SETUP}main:
        movi r1, COUNT
        bge r5, r1, built
        movi r2, 0
fill:                           ; txbufs[WORDS x r5 + r2] = the pattern
        call expected
        movi r3, WORDS
        mul r3, r5, r3
        add r3, r3, r2
        addi r3, r3, txbufs
        st r1, [r3]
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, fill
        call tx_descriptor
        addi r5, r5, 1
        jmp main
built:
        call kick_tx            ; the whole batch, one notification
wait:                           ; until COUNT replies are in the receive queue's used ring
        cli
        ld r1, [rxq + VQ_USED + 1]
        movi r2, COUNT
        bge r1, r2, received
        sti
halt_at:
        hlt
        jmp wait
received:
        movi r5, 0
check_packet:
        movi r1, COUNT
        bge r5, r1, report
        call rx_header
        movi r2, 0
check_word:
        call expected
        addi r1, r1, 1
        movi r3, WORDS
        mul r3, r5, r3
        add r3, r3, r2
        addi r3, r3, rxbufs
        ld r4, [r3]
        beq r1, r4, word_ok
        addi r6, r6, 1
word_ok:
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, check_word
        addi r5, r5, 1
        jmp check_packet
${NET_SHARED}msg_name:   .string "net-ping-pv: "
${NET_PV_BUFFERS}`;

export const NET_PONG_PV_SOURCE = String.raw`
; net-pong-pv: receives COUNT packets through the paravirtual NIC, checks each and answers every
; batch received with one batch of replies to MAC PEER (every word + 1) and one notification
; params: PEER, COUNT (at most 16), WORDS
${NET_PV_SETUP}main:
        movi r1, COUNT
        bge r5, r1, report
        cli
        ld r1, [rxq + VQ_USED + 1]
        blt r5, r1, answer_batch
        sti
halt_at:
        hlt
        jmp main
answer_batch:                   ; packets r5 .. used.idx - 1 have arrived
        st r1, [seen]
answer_one:
        call rx_header
        movi r2, 0
answer_word:
        call expected
        movi r3, WORDS
        mul r3, r5, r3
        add r3, r3, r2
        addi r4, r3, rxbufs
        ld r4, [r4]
        beq r1, r4, word_ok
        addi r6, r6, 1
word_ok:
        addi r4, r4, 1
        addi r3, r3, txbufs
        st r4, [r3]
        addi r2, r2, 1
        movi r4, WORDS
        blt r2, r4, answer_word
        call tx_descriptor
        addi r5, r5, 1
        ld r1, [seen]
        blt r5, r1, answer_one
        call kick_tx            ; one notification for the batch of replies
        jmp main
${NET_SHARED}msg_name:   .string "net-pong-pv: "
seen:       .word 0
${NET_PV_BUFFERS}`;
