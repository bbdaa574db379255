// Small SHD files in the official layout, written at test time with the HDF5 writer beside this
// file (h5wasm cannot write numeric variable-length datasets): spikes/times (VLEN float seconds)
// and spikes/units (VLEN uint16), chunked and extendible like PyTables VLArrays, labels, extra/speaker, extra/keys and extra/meta_info, plain,
// gzipped (.h5.gz) and zipped (.h5.zip); and damaged variants with one thing wrong.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { group, numeric, strings, vlen, writeHdf5, type H5Node } from './hdf5-writer.js';

export const KEYS = [
  'english zero', 'english one', 'english two', 'english three', 'english four', 'english five', 'english six', 'english seven', 'english eight', 'english nine',
  'german null', 'german eins', 'german zwei', 'german drei', 'german vier', 'german fuenf', 'german sechs', 'german sieben', 'german acht', 'german neun',
];

export interface ShdSample {
  times: number[];
  units: number[];
  label: number;
  speaker: number;
}

/** Sample i of file `salt`: spikes over about a second, units across all 700 channels. */
export function shdSample(salt: number, i: number): ShdSample {
  const n = 4 + ((i * 7 + salt) % 9);
  const times = Array.from({ length: n }, (_, k) => ((i * 0.0731 + k * 0.1177 + salt * 0.01) % 1.2) + k * 1e-5);
  const units = Array.from({ length: n }, (_, k) => (i * 37 + k * 113 + salt * 5) % 700);
  return { times, units, label: (i * 3 + salt) % 20, speaker: (i + salt) % 12 };
}

export interface ShdContent {
  samples: ShdSample[];
  /** float width of spikes/times */
  timeType: 'f32' | 'f64';
}

export function shdContent(salt: number, count: number, timeType: 'f32' | 'f64' = 'f32'): ShdContent {
  return { samples: Array.from({ length: count }, (_, i) => shdSample(salt, i)), timeType };
}

/** The times as the file stores them (float32 rounding included), for expectations. */
export function storedTimes(c: ShdContent, i: number): number[] {
  const t = c.samples[i].times;
  return c.timeType === 'f32' ? Array.from(Float32Array.from(t)) : t;
}

/** The official tree; `edit` may replace or delete nodes (by path "a/b") to damage it. */
export function shdTree(c: ShdContent, edit: Record<string, H5Node | null> = {}): H5Node {
  const s = c.samples;
  const times = s.map((x) => (c.timeType === 'f32' ? Float32Array.from(x.times) : Float64Array.from(x.times)));
  const nodes: Record<string, H5Node> = {
    // Chunked and extendible, as PyTables stores VLArrays.
    'spikes/times': vlen(times, { chunked: true }),
    'spikes/units': vlen(s.map((x) => Uint16Array.from(x.units)), { chunked: true }),
    labels: numeric(Uint8Array.from(s.map((x) => x.label))),
    'extra/speaker': numeric(Uint8Array.from(s.map((x) => x.speaker))),
    'extra/keys': strings(KEYS),
    'extra/meta_info/gender': numeric(Uint8Array.from(s.map((x) => x.speaker % 2))),
    'extra/meta_info/age': numeric(Uint8Array.from(s.map((x) => 20 + x.speaker))),
    'extra/meta_info/body_height': numeric(Float64Array.from(s.map((x) => 160 + x.speaker))),
  };
  for (const [path, node] of Object.entries(edit)) {
    if (node === null) delete nodes[path];
    else nodes[path] = node;
  }
  // Nest the flat paths into groups.
  const root: Record<string, unknown> = {};
  for (const [path, node] of Object.entries(nodes)) {
    const parts = path.split('/');
    let g = root;
    for (const p of parts.slice(0, -1)) g = (g[p] ??= {}) as Record<string, unknown>;
    g[parts.at(-1)!] = node;
  }
  const build = (o: Record<string, unknown>): H5Node =>
    group(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, 'kind' in (v as object) ? (v as H5Node) : build(v as Record<string, unknown>)])));
  return build(root);
}

export type Packing = 'h5' | 'gz' | 'zip';

/** Writes `dir/shd_<split>.h5[.gz|.zip]`; returns the path. */
export function writeShdFile(dir: string, split: 'train' | 'test', c: ShdContent, packing: Packing = 'h5', edit: Record<string, H5Node | null> = {}): string {
  const bytes = writeHdf5(shdTree(c, edit));
  const name = `shd_${split}.h5`;
  if (packing === 'h5') {
    writeFileSync(`${dir}/${name}`, bytes);
    return `${dir}/${name}`;
  }
  if (packing === 'gz') {
    writeFileSync(`${dir}/${name}.gz`, gzipSync(bytes));
    return `${dir}/${name}.gz`;
  }
  writeFileSync(`${dir}/${name}.zip`, zipSync({ [name]: bytes }));
  return `${dir}/${name}.zip`;
}
