import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { HeapReclaimerOptions } from './heap-reclaimer.js';

type Gc = () => void;

/**
 * The process's side of the HeapReclaimer: resident memory and V8's heap figures, event-loop
 * utilisation, and a full GC that compacts every page. `gc` is the one V8 exposes with
 * --expose-gc; without that flag it is exposed at run time and fetched from a fresh context
 * (the flag only applies to contexts created after it is set). Compacting every page is a V8
 * flag read at collection time, so it is switched on for this one collection only.
 */
export function v8Heap(): Pick<HeapReclaimerOptions, 'readHeap' | 'busyShare' | 'compact'> {
  let gc = (globalThis as { gc?: Gc }).gc;
  let last = performance.eventLoopUtilization();
  return {
    readHeap() {
      const s = v8.getHeapStatistics();
      return { resident: process.memoryUsage.rss(), committed: s.total_heap_size, used: s.used_heap_size };
    },
    busyShare() {
      const now = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return share;
    },
    compact() {
      if (gc === undefined) {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc') as Gc;
      }
      v8.setFlagsFromString('--compact-on-every-full-gc');
      try {
        gc();
      } finally {
        v8.setFlagsFromString('--no-compact-on-every-full-gc');
      }
    },
  };
}
