/**
 * Guests that talk over the virtual switch (src/actors/vswitch.ts): `net-ping` sends COUNT packets
 * of WORDS words to MAC PEER, word j of packet i being 0x100000 + 256 i + j, and waits for each
 * reply; `net-pong` receives COUNT packets, checks each against that pattern and sends it back to
 * PEER with every word plus one, which `net-ping` checks. Both wait for a packet in hlt (woken by
 * IRQ_NET), print "NAME: COUNT packets, E errors" and power off.
 */
import { PUTD, PUTS } from './lib.js';

export const NET_DEFAULTS: Readonly<Record<string, number>> = { PEER: 2, COUNT: 4, WORDS: 16 };

/** receive (wait for a packet, copy it to rxbuf, r1 = its length; clobbers r2), the handler, the report. */
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
expected:                       ; r1 = 0x100000 + 256 x r5 + r2; clobbers r4
        movi r4, 8
        shl r1, r5, r4
        add r1, r1, r2
        movi r4, 0x100000
        add r1, r1, r4
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
txbuf:  .space WORDS
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
