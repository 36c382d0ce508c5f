/** unscrubbed-frames: freed host frames handed on to their next owner without being scrubbed. */
import { PAGE_WORDS } from '../../core/platform.js';
import type { Mutant } from './shared.js';

export const unscrubbedFrames: Mutant = {
  name: 'unscrubbed-frames',
  bug: 'freed frames handed on without being scrubbed: a frame a VM gave back (power-off, balloon, swap, copy on write) reaches the next VM with its data',
  caughtBy: 'confidentiality',
  parts: {
    name: 'unscrubbed-frames',
    wire(vms) {
      const host = vms[0]?.memory.host;
      if (host === undefined) return;
      const release = host.release.bind(host);
      // The standard release zeroes each frame; this one puts the old words back afterwards.
      host.release = (frames) => {
        const kept = frames.map((frame) => host.words.slice(frame * PAGE_WORDS, (frame + 1) * PAGE_WORDS));
        release(frames);
        frames.forEach((frame, index) => host.words.set(kept[index], frame * PAGE_WORDS));
      };
    },
  },
};
