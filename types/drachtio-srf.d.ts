/**
 * Types for the parts of drachtio-srf 5 that sip/drachtio uses, checked against
 * drachtio-srf 5.0.29 (lib/srf.js, request.js, response.js, drachtio-agent.js) and a running
 * drachtio server. The package ships lib/@types/index.d.ts, but it fails strict tsc and
 * misdescribes what we call: no `srf.subscribe`/`srf.options` verb registrars, `request()` takes
 * a request object where the runtime takes options, no `stackDialogId`, no `reconnecting`
 * event. An ambient module declaration takes precedence over the package's own file (this
 * file must stay a script: no top-level import or export), and the runtime still loads the
 * real package.
 *
 * The package is CommonJS (`module.exports = Srf`): from ESM the default import is the class.
 */
declare module 'drachtio-srf' {

  /** A parsed SIP message as drachtio-srf holds it. */
  export interface SrfSipMessage {
    /** The whole message as the drachtio server encoded it: start line, headers, body. */
    readonly raw: string;
    get(name: string): string | undefined;
    has(name: string): boolean;
  }

  /** A request received from the network. */
  export interface SrfRequest extends SrfSipMessage {
    readonly method: string;
    readonly uri: string;
    /** `udp`, `tcp`, `tls`, `ws` or `wss`. */
    readonly protocol: string;
    readonly source_address: string;
    readonly source_port: number;
    /** The drachtio server's local `address:port` the request arrived on (new requests only). */
    readonly receivedOn?: string;
    /** The server's dialog id (`<Call-ID>;from-tag=<tag>`) when the request is inside a dialog it knows. */
    readonly stackDialogId?: string;
  }

  export interface SrfSendOptions {
    headers?: Record<string, string>;
    body?: string;
  }

  export type SrfSendCallback = (err: Error | string | null | undefined, sent?: SrfSipMessage) => void;

  /** The response to a received request. A `To` header with `;tag=x` sets our To tag. */
  export interface SrfResponse {
    /** The server's dialog id, set once a dialog-creating 2xx has been sent. */
    readonly stackDialogId?: string;
    send(status: number, opts?: SrfSendOptions, callback?: SrfSendCallback): void;
    send(status: number, reason: string, opts?: SrfSendOptions, callback?: SrfSendCallback): void;
  }

  /** A response received to a request we sent (drachtio reports its own timeout as 408). */
  export interface SrfReceivedResponse extends SrfSipMessage {
    readonly status: number;
    readonly reason: string;
  }

  /** A request we sent, as the drachtio server echoed it back. */
  export interface SrfSentRequest extends SrfSipMessage {
    on(event: 'response', listener: (res: SrfReceivedResponse) => void): this;
  }

  export interface SrfRequestOptions {
    method: string;
    headers?: Record<string, string>;
    body?: string;
    /** Send inside this server dialog (From, To, Call-ID, CSeq and target are the server's). */
    stackDialogId?: string;
    /** Send via this address (`sip:host:port;transport=x`) instead of resolving the Request-URI. */
    proxy?: string;
  }

  /** `code` is `ENODIALOG` when the server no longer knows the stackDialogId. */
  export interface SrfRequestError extends Error {
    code?: string;
  }

  export interface SrfConnectOptions {
    host: string;
    port: number;
    secret?: string;
    /** srf's own retry loop; `maxAttempts: 1` turns it off. */
    reconnect?: { maxAttempts?: number; retryMaxDelay?: number };
  }

  export type SrfRequestHandler = (req: SrfRequest, res: SrfResponse) => void;

  class Srf {
    constructor();
    connect(opts: SrfConnectOptions): void;
    /** Closes the connection and stops srf's retries. Throws when there is no connection. */
    disconnect(): void;
    /** `hostports` lists the server's SIP endpoints as `udp/127.0.0.1:5060,tcp/...`. */
    on(event: 'connect', listener: (err: Error | null, hostports: string) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: 'reconnecting', listener: (info: { delay: number; attempt: number }) => void): this;
    removeAllListeners(event?: string): this;
    /** Registers for new requests of each method (in-dialog ones of unknown dialogs come here too). */
    subscribe(handler: SrfRequestHandler): void;
    options(handler: SrfRequestHandler): void;
    invite(handler: SrfRequestHandler): void;
    register(handler: SrfRequestHandler): void;
    publish(handler: SrfRequestHandler): void;
    notify(handler: SrfRequestHandler): void;
    message(handler: SrfRequestHandler): void;
    info(handler: SrfRequestHandler): void;
    refer(handler: SrfRequestHandler): void;
    update(handler: SrfRequestHandler): void;
    bye(handler: SrfRequestHandler): void;
    request(uri: string, opts: SrfRequestOptions, callback: (err: SrfRequestError | null, req: SrfSentRequest) => void): this;
  }

  export default Srf;
}
