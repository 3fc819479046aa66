// @ts-check
/**
 * A small SIP user agent that holds many subscriptions at once, the way a room full of BLF
 * phones (or a proxy in front of them) does: it SUBSCRIBEs to `dialog` over UDP sockets or
 * TCP connections, answers every NOTIFY with 200 at once, and timestamps each NOTIFY's
 * arrival so a fan-out can be timed watcher by watcher. It can also PUBLISH dialog state
 * (Kamailio has no REST API; PUBLISH is its way to change a lamp).
 *
 * Everything it sends goes to the one target on loopback; every wait is bounded.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { now, sleep } from './proc.js';

const CRLF = '\r\n';
const COMPACT = /** @type {Record<string, string>} */ ({ i: 'call-id', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type', o: 'event', m: 'contact' });
/** RFC 3261 17.1.2.2 timers for our own requests over UDP. */
const T1 = 500;
const T2 = 4000;
const TIMER_F = 32_000;

/**
 * @typedef {object} SipMessage
 * @property {boolean} isRequest
 * @property {string} method        request method, or the CSeq method of a response
 * @property {number} status        0 for requests
 * @property {Map<string, string[]>} headers lower-case full names
 * @property {string} body
 * @property {number} [at]         arrival time (performance.now())
 */

/**
 * Parses one SIP message (headers as latin1: all our traffic is ASCII). Undefined if malformed.
 * @param {string} text
 * @returns {SipMessage | undefined}
 */
export function parseSip(text) {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split(CRLF);
  const start = lines[0];
  /** @type {Map<string, string[]>} */
  const headers = new Map();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const value = line.slice(colon + 1).trim();
    const list = headers.get(name);
    if (list) list.push(value);
    else headers.set(name, [value]);
  }
  const isRequest = !start.startsWith('SIP/2.0');
  const cseq = headers.get('cseq')?.[0] ?? '';
  return {
    isRequest,
    method: isRequest ? start.slice(0, start.indexOf(' ')) : cseq.slice(cseq.indexOf(' ') + 1).trim(),
    status: isRequest ? 0 : Number(start.slice(8, 11)),
    headers,
    body: text.slice(end + 4),
  };
}

/** @param {string | undefined} header @param {string} param */
function paramOf(header, param) {
  if (!header) return undefined;
  const m = new RegExp(`;\\s*${param}=([^;>\\s,]+)`, 'i').exec(header);
  return m?.[1];
}

/**
 * @typedef {object} Subscription
 * @property {number} index
 * @property {string} user           the presentity's user part
 * @property {string} callId
 * @property {string} fromTag
 * @property {string} [toTag]
 * @property {number} cseq           of our last SUBSCRIBE
 * @property {Endpoint} endpoint
 * @property {number} notifies
 * @property {number} duplicates     NOTIFYs with a CSeq already seen (a retransmission: our 200 was late or lost)
 * @property {number} lastNotifyCseq
 * @property {string} [lastState]    the dialog state of the last NOTIFY body
 * @property {boolean} terminated    a NOTIFY said Subscription-State: terminated
 * @property {(at: number) => void} [waiter] called with the arrival time of the next new NOTIFY
 */

/**
 * @typedef {object} Endpoint
 * @property {'udp' | 'tcp'} transport
 * @property {number} localPort
 * @property {(data: string) => void} send
 * @property {() => void} close
 */

/**
 * @typedef {object} Expectation
 * @property {string} user
 * @property {string} state
 * @property {number} t0
 * @property {number[]} times        ms after t0 at which each watcher first saw `state`
 * @property {Set<number>} seen
 * @property {number} total
 * @property {() => void} [onComplete]
 */

export class WatcherPool {
  /**
   * @param {{ target: { host: string, port: number }, transport: 'udp' | 'tcp', endpoints: number, domain: string }} o
   */
  constructor(o) {
    this.o = o;
    /** @type {Endpoint[]} */
    this.endpoints = [];
    /** @type {Subscription[]} */
    this.subs = [];
    /** @type {Map<string, Subscription>} */
    this.byCallId = new Map();
    /** @type {Map<string, { resolve: (m: SipMessage | undefined) => void, timer?: NodeJS.Timeout }>} */
    this.pending = new Map();
    /** @type {Map<string, Expectation[]>} */
    this.expectations = new Map();
    this.tag = crypto.randomBytes(4).toString('hex');
    this.stats = { notifies: 0, duplicates: 0, malformed: 0, strays: 0 };
    this.publishSeq = 0;
  }

  async open() {
    for (let i = 0; i < this.o.endpoints; i++) {
      this.endpoints.push(this.o.transport === 'udp' ? await this.openUdp() : await this.openTcp());
    }
  }

  /** @returns {Promise<Endpoint>} */
  openUdp() {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        /** @type {Endpoint} */
        const endpoint = {
          transport: 'udp',
          localPort: socket.address().port,
          send: (data) => socket.send(data, this.o.target.port, this.o.target.host),
          close: () => socket.close(),
        };
        socket.on('message', (buf) => this.onMessage(buf.toString('latin1'), endpoint, now()));
        resolve(endpoint);
      });
    });
  }

  /** @returns {Promise<Endpoint>} */
  openTcp() {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.o.target.host, port: this.o.target.port });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        /** @type {Endpoint} */
        const endpoint = {
          transport: 'tcp',
          localPort: socket.localPort ?? 0,
          send: (data) => socket.write(data, 'latin1'),
          close: () => socket.destroy(),
        };
        let buffer = '';
        socket.on('data', (chunk) => {
          const at = now();
          buffer += chunk.toString('latin1');
          // RFC 3261 18.3: Content-Length frames each message on a stream.
          for (;;) {
            while (buffer.startsWith(CRLF)) buffer = buffer.slice(2);
            const end = buffer.indexOf('\r\n\r\n');
            if (end < 0) break;
            const m = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(buffer.slice(0, end + 2));
            const length = m ? Number(m[1]) : 0;
            if (buffer.length < end + 4 + length) break;
            this.onMessage(buffer.slice(0, end + 4 + length), endpoint, at);
            buffer = buffer.slice(end + 4 + length);
          }
        });
        resolve(endpoint);
      });
    });
  }

  /**
   * @param {string} text @param {Endpoint} endpoint @param {number} at
   */
  onMessage(text, endpoint, at) {
    const msg = parseSip(text);
    if (!msg) {
      this.stats.malformed++;
      return;
    }
    const callId = msg.headers.get('call-id')?.[0] ?? '';
    msg.at = at;
    if (!msg.isRequest) {
      const p = this.pending.get(callId);
      if (p && msg.status >= 200) {
        this.pending.delete(callId);
        if (p.timer) clearTimeout(p.timer);
        p.resolve(msg);
      }
      return;
    }
    // Every request gets its answer at once: 200 to NOTIFY (and anything else we might see).
    const via = msg.headers.get('via') ?? [];
    const answer =
      'SIP/2.0 200 OK' + CRLF +
      via.map((v) => `Via: ${v}${CRLF}`).join('') +
      `From: ${msg.headers.get('from')?.[0] ?? ''}${CRLF}` +
      `To: ${msg.headers.get('to')?.[0] ?? ''}${CRLF}` +
      `Call-ID: ${callId}${CRLF}` +
      `CSeq: ${msg.headers.get('cseq')?.[0] ?? ''}${CRLF}` +
      `Content-Length: 0${CRLF}${CRLF}`;
    endpoint.send(answer);
    if (msg.method !== 'NOTIFY') return;
    this.stats.notifies++;
    const sub = this.byCallId.get(callId);
    if (!sub) {
      this.stats.strays++;
      return;
    }
    const cseq = Number.parseInt(msg.headers.get('cseq')?.[0] ?? '0', 10);
    if (cseq <= sub.lastNotifyCseq) {
      sub.duplicates++;
      this.stats.duplicates++;
      return;
    }
    sub.lastNotifyCseq = cseq;
    sub.notifies++;
    if (/^\s*terminated/i.test(msg.headers.get('subscription-state')?.[0] ?? '')) sub.terminated = true;
    const state = /<(?:[\w-]+:)?state[^>]*>\s*([a-z-]+)\s*</i.exec(msg.body)?.[1];
    if (state) sub.lastState = state;
    if (sub.waiter) {
      const w = sub.waiter;
      sub.waiter = undefined;
      w(at);
    }
    const list = this.expectations.get(sub.user);
    if (list && state) {
      for (const e of list) {
        if (e.state !== state || e.seen.has(sub.index)) continue;
        e.seen.add(sub.index);
        e.times.push(at - e.t0);
        if (e.seen.size === e.total) e.onComplete?.();
      }
    }
  }

  /**
   * Sends a request and waits for its final response (UDP: retransmitted per RFC 3261
   * Timer E, given up at Timer F). Undefined on timeout.
   * @param {Endpoint} endpoint @param {string} callId @param {string} text
   * @returns {Promise<SipMessage | undefined>}
   */
  request(endpoint, callId, text) {
    return new Promise((resolve) => {
      const started = now();
      /** @type {{ resolve: (m: SipMessage | undefined) => void, timer?: NodeJS.Timeout }} */
      const entry = { resolve };
      this.pending.set(callId, entry);
      endpoint.send(text);
      let interval = T1;
      const again = () => {
        if (now() - started >= TIMER_F) {
          this.pending.delete(callId);
          resolve(undefined);
          return;
        }
        if (endpoint.transport === 'udp') endpoint.send(text);
        interval = Math.min(interval * 2, T2);
        entry.timer = setTimeout(again, endpoint.transport === 'udp' ? interval : TIMER_F);
      };
      entry.timer = setTimeout(again, endpoint.transport === 'udp' ? interval : TIMER_F);
    });
  }

  /** @param {Subscription} sub @param {number} expires */
  subscribeText(sub, expires) {
    const ep = sub.endpoint;
    const proto = ep.transport.toUpperCase();
    const branch = `z9hG4bK${this.tag}${sub.index}x${sub.cseq}`;
    const domain = this.o.domain;
    return (
      `SUBSCRIBE sip:${sub.user}@${domain} SIP/2.0${CRLF}` +
      `Via: SIP/2.0/${proto} 127.0.0.1:${ep.localPort};branch=${branch};rport${CRLF}` +
      `From: <sip:w${sub.index}@${domain}>;tag=${sub.fromTag}${CRLF}` +
      `To: <sip:${sub.user}@${domain}>${sub.toTag ? `;tag=${sub.toTag}` : ''}${CRLF}` +
      `Call-ID: ${sub.callId}${CRLF}` +
      `CSeq: ${sub.cseq} SUBSCRIBE${CRLF}` +
      `Contact: <sip:w${sub.index}@127.0.0.1:${ep.localPort};transport=${ep.transport}>${CRLF}` +
      `Max-Forwards: 70${CRLF}` +
      `Event: dialog${CRLF}` +
      `Accept: application/dialog-info+xml${CRLF}` +
      `Expires: ${expires}${CRLF}` +
      `User-Agent: presence-bench${CRLF}` +
      `Content-Length: 0${CRLF}${CRLF}`
    );
  }

  /** @param {string} user @param {number} [index] */
  newSub(user, index = this.subs.length) {
    /** @type {Subscription} */
    const sub = {
      index,
      user,
      callId: `${this.tag}-${index}@bench.invalid`,
      fromTag: `${this.tag}${index}`,
      cseq: 1,
      endpoint: this.endpoints[index % this.endpoints.length],
      notifies: 0,
      duplicates: 0,
      lastNotifyCseq: 0,
      terminated: false,
    };
    this.byCallId.set(sub.callId, sub);
    return sub;
  }

  /**
   * One subscribe cycle of a new watcher of `user`, timed on this process's monotonic clock
   * at the moment each message arrives: SUBSCRIBE -> 2xx, SUBSCRIBE -> NOTIFY, unSUBSCRIBE
   * -> 2xx, unSUBSCRIBE -> final NOTIFY, in ms. Undefined if any step failed (bounded waits).
   * @param {string} user @param {number} index a number no other subscription of this pool uses
   */
  async timedCycle(user, index) {
    const sub = this.newSub(user, index);
    /** @param {number} ms */
    const nextNotify = (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          sub.waiter = undefined;
          resolve(undefined);
        }, ms);
        sub.waiter = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
    try {
      let notified = nextNotify(15_000);
      const t0 = now();
      const res = await this.request(sub.endpoint, sub.callId, this.subscribeText(sub, 600));
      if (!res || res.status >= 300 || res.at === undefined) return undefined;
      sub.toTag = paramOf(res.headers.get('to')?.[0], 'tag');
      const tNotify = /** @type {number | undefined} */ (await notified);
      if (tNotify === undefined) return undefined;
      sub.cseq++;
      notified = nextNotify(15_000);
      const t1 = now();
      const res2 = await this.request(sub.endpoint, sub.callId, this.subscribeText(sub, 0));
      if (!res2 || res2.status >= 300 || res2.at === undefined) return undefined;
      const tFinal = /** @type {number | undefined} */ (await notified);
      if (tFinal === undefined) return undefined;
      return { subscribeTo200: res.at - t0, subscribeToNotify: tNotify - t0, unsubscribeTo200: res2.at - t1, unsubscribeToNotify: tFinal - t1 };
    } finally {
      this.byCallId.delete(sub.callId);
    }
  }

  /**
   * Subscribes one watcher per entry of `users` (a presentity's user part each), at most
   * `window` SUBSCRIBEs outstanding; then waits (bounded) for each one's first NOTIFY.
   * @param {string[]} users
   * @param {{ expires?: number, window?: number, timeoutMs?: number }} [opts]
   */
  async subscribeAll(users, opts = {}) {
    const expires = opts.expires ?? 3600;
    const window = opts.window ?? 200;
    const deadline = now() + (opts.timeoutMs ?? 120_000);
    const started = now();
    const first = this.subs.length;
    for (const user of users) this.subs.push(this.newSub(user));
    let next = first;
    let ok = 0;
    let failed = 0;
    /** @type {number[]} */
    const statuses = [];
    const worker = async () => {
      while (next < this.subs.length && now() < deadline) {
        const sub = this.subs[next++];
        const res = await this.request(sub.endpoint, sub.callId, this.subscribeText(sub, expires));
        if (res && res.status < 300) {
          sub.toTag = paramOf(res.headers.get('to')?.[0], 'tag');
          ok++;
        } else {
          failed++;
          if (res) statuses.push(res.status);
        }
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    const subscribed = now();
    // Each new subscription's first NOTIFY (RFC 6665 4.2.1): wait for them all, bounded.
    while (now() < deadline && this.subs.slice(first).some((s) => s.toTag && s.notifies === 0)) await sleep(20);
    const withoutNotify = this.subs.slice(first).filter((s) => s.toTag && s.notifies === 0).length;
    return {
      ok,
      failed,
      withoutNotify,
      rejected: [...new Set(statuses)],
      subscribeSeconds: (subscribed - started) / 1000,
      seconds: (now() - started) / 1000,
    };
  }

  /**
   * Ends every subscription (Expires: 0), `window` at a time, and waits (bounded) for the
   * final NOTIFYs.
   * @param {{ window?: number, timeoutMs?: number }} [opts]
   */
  async unsubscribeAll(opts = {}) {
    const window = opts.window ?? 200;
    const deadline = now() + (opts.timeoutMs ?? 60_000);
    const live = this.subs.filter((s) => s.toTag && !s.terminated);
    let next = 0;
    let ok = 0;
    const worker = async () => {
      while (next < live.length && now() < deadline) {
        const sub = live[next++];
        sub.cseq++;
        const res = await this.request(sub.endpoint, sub.callId, this.subscribeText(sub, 0));
        if (res && res.status < 300) ok++;
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    while (now() < deadline && live.some((s) => !s.terminated)) await sleep(20);
    return { ok, of: live.length, unterminated: live.filter((s) => !s.terminated).length };
  }

  /**
   * Starts timing: every watcher of `user` that receives a NOTIFY whose dialog state is
   * `state` from now on is counted once, with its arrival time.
   * @param {string} user @param {string} state
   */
  expect(user, state) {
    const total = this.subs.filter((s) => s.user === user && s.toTag).length;
    /** @type {Expectation} */
    const e = { user, state, t0: now(), times: [], seen: new Set(), total };
    const list = this.expectations.get(user) ?? [];
    list.push(e);
    this.expectations.set(user, list);
    const done = new Promise((resolve) => (e.onComplete = () => resolve(undefined)));
    return {
      expectation: e,
      /** Resolves when every watcher got it, or after `timeoutMs`. @param {number} timeoutMs */
      wait: async (timeoutMs) => {
        if (e.seen.size < e.total) {
          /** @type {NodeJS.Timeout | undefined} */
          let timer;
          await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
          clearTimeout(timer);
        }
        this.expectations.set(user, (this.expectations.get(user) ?? []).filter((x) => x !== e));
        return e;
      },
    };
  }

  /**
   * PUBLISHes a dialog-info document for `user` (RFC 3903): a new publication, or with
   * `etag` a modification of that one. Resolves with the status and the new SIP-ETag.
   * `dialogId` names the call: RFC 4235 3.7.1 makes `terminated` final, so a lamp that lights
   * again is a new dialog (Kamailio ignores a terminated dialog coming back to life).
   * `expires` 0 with an etag removes that publication (RFC 3903 4.5).
   * @param {string} user @param {string} state @param {string} [etag] @param {string} [dialogId] @param {number} [expires]
   */
  async publish(user, state, etag, dialogId = `bench-${user}`, expires = 3600) {
    const ep = this.endpoints[0];
    const n = ++this.publishSeq;
    const domain = this.o.domain;
    const callId = `${this.tag}-pub-${n}@bench.invalid`;
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
      `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${n}" state="full" entity="sip:${user}@${domain}">` +
      `<dialog id="${dialogId}" direction="recipient"><state>${state}</state></dialog></dialog-info>\r\n`;
    const text =
      `PUBLISH sip:${user}@${domain} SIP/2.0${CRLF}` +
      `Via: SIP/2.0/${ep.transport.toUpperCase()} 127.0.0.1:${ep.localPort};branch=z9hG4bK${this.tag}p${n};rport${CRLF}` +
      `From: <sip:${user}@${domain}>;tag=${this.tag}p${n}${CRLF}` +
      `To: <sip:${user}@${domain}>${CRLF}` +
      `Call-ID: ${callId}${CRLF}` +
      `CSeq: 1 PUBLISH${CRLF}` +
      `Max-Forwards: 70${CRLF}` +
      `Event: dialog${CRLF}` +
      `Expires: ${expires}${CRLF}` +
      (etag ? `SIP-If-Match: ${etag}${CRLF}` : '') +
      `Content-Type: application/dialog-info+xml${CRLF}` +
      `Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}` +
      body;
    const res = await this.request(ep, callId, text);
    return { status: res?.status ?? 408, etag: res?.headers.get('sip-etag')?.[0] };
  }

  /** Subscriptions of `user` that are established. @param {string} user */
  watchersOf(user) {
    return this.subs.filter((s) => s.user === user && s.toTag);
  }

  close() {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    for (const e of this.endpoints) e.close();
    this.endpoints = [];
  }
}
