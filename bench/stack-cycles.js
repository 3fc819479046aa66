// @ts-check
/**
 * The event loop's CPU per subscribe cycle, with no network: the built server (dist/) runs
 * in this process with its UDP transport's socket calls replaced by arrays, and the same
 * cycle as bench/sipp/subscribe-cycle.xml (SUBSCRIBE -> 200 -> NOTIFY -> 200 -> unSUBSCRIBE
 * -> 200 -> NOTIFY (terminated) -> 200) is fed through the transport layer in batches.
 *
 * What it leaves out is what makes the end-to-end figures noisy on a shared VM: SIPp on the
 * other core, the kernel's loopback, dgram's receive path. What is left is parsing,
 * transactions, the subscription service, NOTIFY building and the group commit (the writer
 * thread commits on its own core, as in the server), measured from the main thread's own
 * run time (/proc/self/task/<pid>/schedstat), so a code change shows within a few percent.
 * The time this script spends writing the phone's side is measured and taken out.
 *
 *   npm run build && node bench/stack-cycles.js [--cycles=20000] [--batch=200] [--rounds=5] [--db=file|memory]
 *   node --cpu-prof --cpu-prof-dir=DIR bench/stack-cycles.js   # then: node bench/lib/profile.js DIR/*.cpuprofile
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UdpTransport } from '../dist/sip/stack/transports/udp-transport.js';
import { loadConfig } from '../dist/src/config.js';
import { startPresenceServer } from '../dist/src/main.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => /^--([^=]+)=(.*)$/.exec(a)?.slice(1) ?? [a, '']));
const CYCLES = Number(args.cycles ?? 20000);
const BATCH = Number(args.batch ?? 200);
const ROUNDS = Number(args.rounds ?? 5);
const DOMAIN = 'acme.example.com';
const SERVER = { address: '127.0.0.1', port: 5060 };
const PHONE = { transport: /** @type {const} */ ('udp'), address: '127.0.0.1', port: 5070, local: SERVER };

// The transport keeps everything but its socket: what it would send is collected here, and
// what a phone sends is handed to its sink as the socket's 'message' listener would.
/** @type {Buffer[]} */
const sent = [];
/** @type {any} */
let udp;
const transport = /** @type {any} */ (UdpTransport.prototype);
transport.start = async function () {
  udp = this;
  this.bound = SERVER;
  this.socket = {};
};
transport.stop = async function () {};
transport.post = (/** @type {unknown} */ _dest, /** @type {Buffer} */ data) => void sent.push(data);
transport.send = (/** @type {unknown} */ _dest, /** @type {Buffer} */ data) => {
  sent.push(data);
  return { ok: true };
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-cycles-'));
const config = loadConfig({
  PRESENCE_SIP_LISTEN: `udp:${SERVER.address}:${SERVER.port}`,
  PRESENCE_HTTP_LISTEN: '127.0.0.1:0',
  PRESENCE_DB: args.db === 'memory' ? ':memory:' : path.join(dir, 'presence.db'),
  PRESENCE_SIP_AUTH: 'none',
  PRESENCE_UDP_SEND_THREAD: '0',
  LOG_LEVEL: 'warn',
});
const server = await startPresenceServer(config);

/** The main thread's run time so far, µs (the kernel's own accounting, in ns). */
const MAIN = `/proc/self/task/${process.pid}/schedstat`;
const mainUs = () => Number(fs.readFileSync(MAIN, 'utf8').split(' ')[0]) / 1000;
let phoneUs = 0;
/** Runs the phone's side of the cycle and counts its time apart. @template T @param {() => T} fn */
const phone = (fn) => {
  const t0 = mainUs();
  const r = fn();
  phoneUs += mainUs() - t0;
  return r;
};

/** @param {number} i @param {number} cseq @param {string} toTag @param {number} expires */
function subscribe(i, cseq, toTag, expires) {
  return (
    `SUBSCRIBE sip:1001@${DOMAIN} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${PHONE.address}:${PHONE.port};branch=z9hG4bK-9999-${i}-${cseq};rport\r\n` +
    `From: <sip:watcher${i}@${DOMAIN}>;tag=9999b${i}\r\n` +
    `To: <sip:1001@${DOMAIN}>${toTag ? `;tag=${toTag}` : ''}\r\n` +
    `Call-ID: ${i}-9999@${PHONE.address}\r\nCSeq: ${cseq} SUBSCRIBE\r\n` +
    `Contact: <sip:watcher${i}@${PHONE.address}:${PHONE.port};transport=UDP>\r\nMax-Forwards: 70\r\nEvent: dialog\r\n` +
    (cseq === 1 ? 'Accept: application/dialog-info+xml\r\n' : '') +
    `Expires: ${expires}\r\n` +
    (cseq === 1 ? 'User-Agent: SIPp bench\r\n' : '') +
    'Content-Length: 0\r\n\r\n'
  );
}
/** @param {string} text @param {string} name */
const header = (text, name) => new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(text)?.[1] ?? '';
/** The phone's 200 to a NOTIFY. @param {string} notify */
const ok = (notify) =>
  `SIP/2.0 200 OK\r\nVia: ${header(notify, 'Via')}\r\nFrom: ${header(notify, 'From')}\r\nTo: ${header(notify, 'To')}\r\n` +
  `Call-ID: ${header(notify, 'Call-ID')}\r\nCSeq: ${header(notify, 'CSeq')}\r\nContent-Length: 0\r\n\r\n`;
/** @param {string} text */
const receive = (text) => udp.sink.onData(Buffer.from(text, 'latin1'), PHONE, false);

/** Lets the event loop run (the group commit, the writer thread's answer) until `want` datagrams are out. */
async function sentAtLeast(/** @type {number} */ want) {
  for (let i = 0; i < 1000 && sent.length < want; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5000 && sent.length < want; i++) await new Promise((r) => setTimeout(r, 1));
  if (sent.length < want) throw new Error(`the server sent ${sent.length} datagrams, not ${want}`);
}
/** @returns {string[]} */
const drained = () => sent.splice(0).map((b) => b.toString('latin1'));

/** Cycle numbers go on across warm-up and rounds: each cycle has its own Call-ID and branches. */
let nextCycle = 0;

/** `n` cycles side by side, one phase at a time. @param {number} n */
async function cycles(n) {
  const first = nextCycle;
  nextCycle += n;
  for (const s of phone(() => Array.from({ length: n }, (_, k) => subscribe(first + k, 1, '', 600)))) receive(s);
  await sentAtLeast(2 * n);
  const [answers, unsubscribes] = phone(() => {
    /** @type {Map<string, string>} */
    const tags = new Map();
    /** @type {string[]} */
    const oks = [];
    for (const t of drained()) {
      if (t.startsWith('SIP/2.0 200')) tags.set(header(t, 'Call-ID'), /;tag=([^;\s]+)/.exec(header(t, 'To'))?.[1] ?? '');
      else oks.push(ok(t));
    }
    return [oks, Array.from({ length: n }, (_, k) => subscribe(first + k, 2, tags.get(`${first + k}-9999@${PHONE.address}`) ?? '', 0))];
  });
  if (answers.length !== n) throw new Error(`${answers.length} first NOTIFYs for ${n} SUBSCRIBEs`);
  for (const a of answers) receive(a);
  for (const u of unsubscribes) receive(u);
  await sentAtLeast(2 * n);
  const finals = phone(() => drained().filter((t) => t.startsWith('NOTIFY')).map(ok));
  if (finals.length !== n) throw new Error(`${finals.length} final NOTIFYs for ${n} unSUBSCRIBEs`);
  for (const f of finals) receive(f);
  await new Promise((r) => setImmediate(r));
}

try {
  // Warm-up: the JIT, the string pools, the writer thread.
  for (let b = 0; b < 20; b++) await cycles(BATCH);
  /** @type {number[]} */
  const perCycle = [];
  for (let round = 0; round < ROUNDS; round++) {
    phoneUs = 0;
    const t0 = mainUs();
    for (let b = 0; b < CYCLES / BATCH; b++) await cycles(BATCH);
    const us = (mainUs() - t0 - phoneUs) / CYCLES;
    perCycle.push(us);
    console.log(`round ${round + 1}: ${us.toFixed(1)} µs of the event loop per cycle (the phone's side, ${(phoneUs / CYCLES).toFixed(1)} µs, taken out)`);
  }
  const sorted = [...perCycle].sort((a, b) => a - b);
  console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} µs, best ${sorted[0].toFixed(1)} µs per cycle over ${ROUNDS} rounds of ${CYCLES}`);
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
