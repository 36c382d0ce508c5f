/**
 * Guests that page: each builds an identity page table for its memory, turns paging on, and then
 * stresses one side of memory virtualization.
 *
 *   tlb-heavy  reads one word from each of many pages in turn, more pages than the TLB holds:
 *              nearly every access is a TLB miss (nested paging pays its longer walk on each)
 *   pt-heavy   remaps one page over and over (a page-table write, a TLB flush, a touch), as a
 *              kernel creating and tearing down mappings does (shadow paging traps each write)
 *
 * Both count their iterations in r5 and report each through port 0x80 every REPORT iterations.
 * They need 512 KiB of memory (128 pages: the table in the last one).
 */
const SETUP = String.raw`
.equ PT, 127 * PAGE_WORDS       ; the page table: the last page
.equ PTE_P, 1
.equ PTE_W, 2
.equ PTE_U, 4
_start:
        movi sp, 126 * PAGE_WORDS
        movi r1, 0                  ; identity-map pages 0..127 (the table maps itself too)
        movi r3, 128
map:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        movi r4, PTE_P + PTE_W + PTE_U
        or r2, r2, r4
        movi r4, PT
        add r4, r4, r1
        st r2, [r4]
        addi r1, r1, 1
        blt r1, r3, map
        movi r1, PT
        csrw ptb, r1
        movi r5, 0
`;

export const TLB_HEAVY_SOURCE = String.raw`
; tlb-heavy: touch PAGES pages in turn, one word each, forever
${SETUP}
        movi r6, 8 * PAGE_WORDS     ; first data page
loop:
        movi r1, 0
touch:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        add r2, r2, r6
        ld r3, [r2]
        addi r3, r3, 1
        st r3, [r2]
        addi r5, r5, 1
        addi r1, r1, 1
        movi r4, PAGES
        blt r1, r4, touch
        out 0x80, r5
        jmp loop
`;
export const TLB_HEAVY_DEFAULTS = { PAGES: 96 } as const;

export const PT_HEAVY_SOURCE = String.raw`
; pt-heavy: remap guest page 100 to frame 101 or 102 in turn, flush the TLB, touch it; forever
${SETUP}
        movi r6, PT + 100           ; the entry for page 100
        movi r7, PT
loop:
        movi r1, 101 * PAGE_WORDS + PTE_P + PTE_W + PTE_U
        movi r4, 1
        and r2, r5, r4
        movi r4, PAGE_WORDS
        mul r2, r2, r4
        add r1, r1, r2              ; frame 101 or 102
        st r1, [r6]                 ; a page-table write
        csrw ptb, r7                ; flush the TLB (as invlpg or a CR3 reload would)
        ld r3, [100 * PAGE_WORDS]   ; touch the remapped page
        addi r3, r3, 1
        st r3, [100 * PAGE_WORDS]
        work WORK_NS
        addi r5, r5, 1
        out 0x80, r5
        jmp loop
`;
export const PT_HEAVY_DEFAULTS = { WORK_NS: 200 } as const;
