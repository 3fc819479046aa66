// @ts-check
/**
 * Our server from the build, started in-process with an IPC channel, for the figures that
 * need a state change while the REST API is not there to make one: the runner sends
 * `{ type: 'set', presentity, state }` and the harness calls PresenceService.set, the same
 * call the REST route makes; `{ type: 'memory' }` answers process.memoryUsage() after a full
 * GC (with node --expose-gc). Everything else is dist/src/main.js's own startPresenceServer
 * with the environment's configuration; SIGTERM stops it the same way.
 */
import v8 from 'node:v8';

const main = await import(new URL('../../dist/src/main.js', import.meta.url).href);
const { loadConfig } = await import(new URL('../../dist/src/config.js', import.meta.url).href);

const config = loadConfig(process.env);
const server = await main.startPresenceServer(config);

/** @param {{ type: string, id?: number, file?: string, presentity?: string, presentities?: string[], states?: string[], state?: string, rate?: number, seconds?: number }} m */
function onMessage(m) {
  switch (m.type) {
    case 'set': {
      const t = performance.now();
      server.presence.set(m.presentity, m.state);
      process.send?.({ type: 'done', id: m.id, ms: performance.now() - t });
      break;
    }
    case 'storm': {
      // A bounded storm of state changes: `rate` sets per second for `seconds`, round-robin
      // over the presentities, each one moving through `states` in turn.
      const presentities = m.presentities ?? [];
      const states = m.states ?? ['confirmed', 'early'];
      const rate = m.rate ?? 1000;
      const until = performance.now() + (m.seconds ?? 5) * 1000;
      const started = performance.now();
      let sent = 0;
      const tick = () => {
        const t = performance.now();
        if (t >= until) {
          process.send?.({ type: 'done', id: m.id, sets: sent, seconds: (t - started) / 1000 });
          return;
        }
        const due = Math.floor(((t - started) / 1000) * rate);
        while (sent < due) {
          const p = presentities[sent % presentities.length];
          server.presence.set(p, states[Math.floor(sent / presentities.length) % states.length]);
          sent++;
        }
        setTimeout(tick, 1);
      };
      tick();
      break;
    }
    case 'memory': {
      // A full collection first (node --expose-gc), so heapUsed counts live objects only.
      const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
      if (gc) {
        gc();
        gc();
      }
      process.send?.({
        type: 'done',
        id: m.id,
        collected: !!gc,
        usage: process.memoryUsage(),
        // Committed vs used per V8 space: where heap slack sits (young generation or old).
        spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size })),
        subscriptions: server.subscriptions.size,
      });
      break;
    }
    case 'heap-snapshot': {
      // For bench/lib/heap-summary.js: where the live heap per subscription goes.
      const file = v8.writeHeapSnapshot(m.file);
      process.send?.({ type: 'done', id: m.id, file });
      break;
    }
    default:
      process.send?.({ type: 'error', id: m.id, message: `unknown message ${m.type}` });
  }
}

process.on('message', onMessage);
const stop = () => {
  process.off('message', onMessage);
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
