/**
 * dirty-pages: a guest that dirties memory uniformly at random at a steady rate, for live
 * migration (docs/migration.md, the analytical model). Its own LCG (Numerical Recipes' constants,
 * the high bits) picks one of PAGES pages (pages 1..PAGES) for each write; each write adds 1 to the
 * first word of the page (so the page's first word counts its writes, and their sum the writes
 * made so far), then WORK_NS of work follow. After WRITES writes it prints the writes and a
 * checksum of every page's count and powers off. params: PAGES, WRITES, WORK_NS, SEED
 */
import { PUTD, PUTS } from './lib.js';

export const DIRTY_PAGES_SOURCE = String.raw`
_start:
        movi sp, stack_top
        movi r6, SEED           ; the LCG's state
        movi r5, WRITES         ; writes left
write:
        movi r4, 1664525
        mul r6, r6, r4
        movi r4, 1013904223
        add r6, r6, r4
        movi r4, 8
        shr r1, r6, r4          ; the high 24 bits, non-negative
        movi r4, PAGES
        mod r1, r1, r4
        addi r1, r1, 1          ; page 1..PAGES
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        ld r3, [r2 + 0]
        addi r3, r3, 1
        st r3, [r2 + 0]
        work WORK_NS
        addi r5, r5, -1
        jnz r5, write
        movi r1, 1              ; checksum: sum over pages of count x page
        movi r6, 0
sum:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        ld r3, [r2 + 0]
        mul r3, r3, r1
        add r6, r6, r3
        addi r1, r1, 1
        movi r4, PAGES + 1
        blt r1, r4, sum
        push r6
        movi r1, msg_done
        call puts
        movi r1, WRITES
        call putd
        movi r1, msg_sum
        call puts
        pop r1
        call putd
        movi r1, msg_end
        call puts
        out PORT_POWER, r0
${PUTS}${PUTD}msg_done:   .string "dirty-pages: "
msg_sum:    .string " writes, checksum "
msg_end:    .string "\n"
            .space 64
stack_top:
`;
export const DIRTY_PAGES_DEFAULTS = { PAGES: 15, WRITES: 2000, WORK_NS: 10_000, SEED: 1 } as const;
