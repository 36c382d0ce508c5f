/**
 * Memory-hungry guests, for memory overcommit and reclamation (sharing, ballooning, swapping).
 */
import { PUTD, PUTS } from './lib.js';

export const MEM_HUNGRY_SOURCE = String.raw`
; mem-hungry: writes a word into each of pages 1..PAGES (SEED + page), WORK_NS apart, twice over,
; checks every word, prints how it went and powers off. Under overcommit every page it touches
; needs a host frame. params: PAGES, SEED, WORK_NS
_start:
        movi sp, stack_top
        movi r6, 2              ; passes left
pass:
        movi r1, 1
write:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        movi r3, SEED
        add r3, r3, r1
        st r3, [r2 + 5]
        work WORK_NS
        addi r1, r1, 1
        movi r4, PAGES + 1
        blt r1, r4, write
        movi r1, 1
check:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        ld r3, [r2 + 5]
        movi r5, SEED
        add r5, r5, r1
        beq r3, r5, right
        ld r3, [wrong]
        addi r3, r3, 1
        st r3, [wrong]
right:
        addi r1, r1, 1
        movi r4, PAGES + 1
        blt r1, r4, check
        addi r6, r6, -1
        jnz r6, pass
        movi r1, msg_done
        call puts
        ld r1, [wrong]
        call putd
        movi r1, msg_errors
        call puts
        out PORT_POWER, r0
${PUTS}${PUTD}msg_done:   .string "mem-hungry: pages written twice and checked, "
msg_errors: .string " wrong\n"
wrong:      .word 0
            .space 64
stack_top:
`;
export const MEM_HUNGRY_DEFAULTS = { PAGES: 120, SEED: 1, WORK_NS: 20_000 } as const;
