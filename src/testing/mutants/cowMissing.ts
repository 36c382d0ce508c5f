/**
 * cow-missing: a write to a merged page made writable in place instead of copied first (page
 * sharing's copy on write left out): the writer changes the page of every VM that shares it.
 */
import { PAGE_WORDS } from '../../core/platform.js';
import type { Mutant } from './shared.js';

export const cowMissing: Mutant = {
  name: 'cow-missing',
  bug: 'copy on write left out: a VM that writes a page merged by page sharing writes the shared frame itself, under every VM that maps it',
  caughtBy: 'memory-isolation',
  parts: {
    name: 'cow-missing',
    sharedWrite(map, page, frame) {
      map.writeBase[page] = frame * PAGE_WORDS;
      return true;
    },
  },
};
