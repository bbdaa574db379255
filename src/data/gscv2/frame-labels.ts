// Per-frame training targets of a GSCv2 clip, as the reference labels them (feat_extract.py with
// label_head 2, label_tail −2): the clip's class on frames 2 … T−3, silence on the first two and
// last two frames, where a keyword has not started or has ended. Clips of 4 frames or fewer are all
// silence, as numpy's empty slice [2:−2] leaves them.
import { FEATURE_SETTINGS } from './log-filterbank.js';
import { SILENCE } from './clips.js';

export function frameLabels(frames: number, label: number, head: number = FEATURE_SETTINGS.label_head, tail: number = FEATURE_SETTINGS.label_tail): Int32Array {
  const out = new Int32Array(frames).fill(SILENCE);
  for (let t = head; t < frames - tail; t++) out[t] = label;
  return out;
}
