// @ts-check
/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and ranks functions by self time, with
 * each compiled dist/ location mapped back to its TypeScript file:line through the build's
 * source maps. Also usable on its own: `node bench/lib/profile.js FILE.cpuprofile [N]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** @typedef {{ functionName: string, url: string, lineNumber: number, columnNumber: number }} CallFrame */
/** @typedef {{ id: number, callFrame: CallFrame, children?: number[], positionTicks?: { line: number, ticks: number }[] }} ProfileNode */
/** @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} CpuProfile */

/**
 * @typedef {object} HotFunction
 * @property {string} name       function name (or V8's "(garbage collector)", "(program)")
 * @property {string} location   file:line in the sources (TypeScript when a source map says so)
 * @property {string} [hotLine]  the line inside it that took most samples, when V8 says
 * @property {number} selfMs
 * @property {number} selfPct    of all non-idle samples
 */

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64 = new Map([...BASE64].map((c, i) => [c, i]));

/**
 * Decodes a source map's `mappings` into, per generated line, segments sorted by column:
 * [generatedColumn, sourceIndex, originalLine, originalColumn] (all 0-based).
 * @param {string} mappings
 * @returns {number[][][]}
 */
function decodeMappings(mappings) {
  /** @type {number[][][]} */
  const lines = [];
  let src = 0;
  let oLine = 0;
  let oCol = 0;
  for (const lineText of mappings.split(';')) {
    /** @type {number[][]} */
    const segs = [];
    let gCol = 0;
    if (lineText) {
      for (const segText of lineText.split(',')) {
        /** @type {number[]} */
        const fields = [];
        let value = 0;
        let shift = 0;
        for (const ch of segText) {
          const digit = B64.get(ch);
          if (digit === undefined) break;
          value += (digit & 31) << shift;
          if (digit & 32) {
            shift += 5;
          } else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        if (fields.length === 0) continue;
        gCol += fields[0];
        if (fields.length >= 4) {
          src += fields[1];
          oLine += fields[2];
          oCol += fields[3];
          segs.push([gCol, src, oLine, oCol]);
        }
      }
    }
    lines.push(segs);
  }
  return lines;
}

/** Source maps of dist/ files, loaded once each. */
class SourceMaps {
  constructor() {
    /** @type {Map<string, { sources: string[], lines: number[][][] } | null>} */
    this.cache = new Map();
  }

  /** @param {string} file absolute path of a generated .js */
  load(file) {
    if (this.cache.has(file)) return this.cache.get(file) ?? null;
    let map = null;
    try {
      const raw = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8'));
      const dir = path.dirname(file);
      map = {
        sources: raw.sources.map((/** @type {string} */ s) => path.resolve(dir, raw.sourceRoot ?? '', s)),
        lines: decodeMappings(raw.mappings),
      };
    } catch {
      map = null;
    }
    this.cache.set(file, map);
    return map;
  }

  /**
   * Original file and 1-based line of a generated position (0-based line and column).
   * @param {string} file @param {number} line @param {number} column
   * @returns {{ file: string, line: number } | undefined}
   */
  original(file, line, column) {
    const map = this.load(file);
    if (!map) return undefined;
    const segs = map.lines[line];
    if (!segs || segs.length === 0) return undefined;
    let best = segs[0];
    for (const seg of segs) {
      if (seg[0] <= column) best = seg;
      else break;
    }
    return { file: map.sources[best[1]], line: best[2] + 1 };
  }
}

/** @param {string} url */
function filePathOf(url) {
  if (url.startsWith('file://')) return fileURLToPath(url);
  return url;
}

/** @param {string} file */
function shorten(file) {
  if (file.startsWith(ROOT)) return file.slice(ROOT.length);
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + 1);
  return file;
}

/**
 * Each sample's time (µs, the profile's clock: CLOCK_MONOTONIC, the same as
 * process.hrtime) and its share of time, limited to a window when one is given.
 * @param {CpuProfile} profile @param {{ fromUs?: number, toUs?: number }} [window]
 * @returns {Array<[number, number]>} [node id, µs]
 */
function samplesIn(profile, window = {}) {
  /** @type {Array<[number, number]>} */
  const out = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    t += dt;
    if (window.fromUs !== undefined && t < window.fromUs) continue;
    if (window.toUs !== undefined && t > window.toUs) continue;
    // timeDeltas[i] is the time since the previous sample; it belongs to the one taken now.
    out.push([profile.samples[i], dt]);
  }
  return out;
}

/**
 * Ranks functions by self time (within a window of the profile's clock, if given).
 * @param {CpuProfile} profile
 * @param {number} [top]
 * @param {{ fromUs?: number, toUs?: number }} [window]
 * @returns {{ totalMs: number, idleMs: number, functions: HotFunction[] }}
 */
export function hotFunctions(profile, top = 15, window = {}) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  for (const [id, us] of samplesIn(profile, window)) selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  const maps = new SourceMaps();
  /** @type {Map<string, { name: string, location: string, us: number, lineTicks: Map<number, number>, frame: CallFrame }>} */
  const byFunction = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const cf = node.callFrame;
    totalUs += us;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}|${cf.columnNumber}`;
    let entry = byFunction.get(key);
    if (!entry) {
      let location = cf.url ? `${shorten(filePathOf(cf.url))}:${cf.lineNumber + 1}` : '(native)';
      if (cf.url.startsWith('file://')) {
        const orig = maps.original(filePathOf(cf.url), cf.lineNumber, cf.columnNumber);
        if (orig) location = `${shorten(orig.file)}:${orig.line}`;
      }
      entry = { name: cf.functionName || '(anonymous)', location, us: 0, lineTicks: new Map(), frame: cf };
      byFunction.set(key, entry);
    }
    entry.us += us;
    for (const pt of node.positionTicks ?? []) entry.lineTicks.set(pt.line, (entry.lineTicks.get(pt.line) ?? 0) + pt.ticks);
  }
  const busyUs = totalUs - idleUs;
  const ranked = [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: ranked.map((e) => {
      /** @type {HotFunction} */
      const out = { name: e.name, location: e.location, selfMs: e.us / 1000, selfPct: busyUs > 0 ? (100 * e.us) / busyUs : 0 };
      if (e.lineTicks.size > 1 && e.frame.url.startsWith('file://')) {
        const [line] = [...e.lineTicks.entries()].sort((a, b) => b[1] - a[1])[0];
        // positionTicks lines are 1-based; the source map wants 0-based.
        const orig = maps.original(filePathOf(e.frame.url), line - 1, 0);
        out.hotLine = orig ? `${shorten(orig.file)}:${orig.line}` : `${shorten(filePathOf(e.frame.url))}:${line}`;
      }
      return out;
    }),
  };
}

/**
 * Self time per category: our code by top folder (src/, sip/, db/, api/), node_modules by
 * package, Node internals, GC, and V8's "(program)".
 * @param {CpuProfile} profile
 * @param {{ fromUs?: number, toUs?: number }} [window]
 * @returns {Record<string, number>} milliseconds
 */
export function selfTimeByArea(profile, window = {}) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Record<string, number>} */
  const out = {};
  for (const [id, us] of samplesIn(profile, window)) {
    const node = byId.get(id);
    if (!node) continue;
    const { url, functionName } = node.callFrame;
    let area;
    if (functionName === '(idle)') continue;
    if (functionName.startsWith('(')) area = functionName;
    else if (url.startsWith('node:')) area = 'node internals';
    else if (!url) area = '(native)';
    else {
      const file = shorten(filePathOf(url));
      const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      area = nm ? nm[1] : file.startsWith('dist/') ? `${file.split('/')[1]}/` : file;
    }
    out[area] = (out[area] ?? 0) + us / 1000;
  }
  return out;
}

/** @param {string} file */
export function readProfile(file) {
  return /** @type {CpuProfile} */ (JSON.parse(fs.readFileSync(file, 'utf8')));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/lib/profile.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const profile = readProfile(file);
  const { totalMs, idleMs, functions } = hotFunctions(profile, Number(process.argv[3] ?? 15));
  process.stdout.write(`profile: ${(totalMs / 1000).toFixed(1)} s sampled, ${(100 * (1 - idleMs / totalMs)).toFixed(0)}% busy\n`);
  for (const [i, f] of functions.entries()) {
    process.stdout.write(`${String(i + 1).padStart(2)}. ${f.selfPct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.location}${f.hotLine ? `  (hot line ${f.hotLine})` : ''}\n`);
  }
  const areas = Object.entries(selfTimeByArea(profile)).sort((a, b) => b[1] - a[1]);
  process.stdout.write(`by area: ${areas.map(([a, ms]) => `${a} ${ms.toFixed(0)} ms`).join(', ')}\n`);
}
