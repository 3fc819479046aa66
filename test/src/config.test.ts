import { describe, expect, it } from 'vitest';
import { argvToEnv, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config-error.js';

/** The ConfigError loadConfig throws for `env`. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('without any variable listens on UDP and TCP 5060 and WebSocket 5066 on loopback, HTTP on 8000, native stack, ./data', () => {
    const config = loadConfig({});
    expect(config.sipListen).toEqual([
      { transport: 'udp', host: '127.0.0.1', port: 5060 },
      { transport: 'tcp', host: '127.0.0.1', port: 5060 },
      { transport: 'ws', host: '127.0.0.1', port: 5066 },
    ]);
    expect(config.httpListen).toEqual({ host: '127.0.0.1', port: 8000 });
    expect(config.dbPath).toBe('./data/presence.db');
    expect(config.sipBackend).toBe('native');
    expect(config.logLevel).toBe('info');
    expect(config.notifyMaxTimeouts).toBe(3);
    expect(config.tls).toBeUndefined();
    // Left to the native stack, which decides by platform.
    expect(config.udpSendThread).toBeUndefined();
    expect(config.helperThreadNice).toBe(10);
  });

  it('turns the UDP send thread on or off when asked by name', () => {
    expect(loadConfig({ PRESENCE_UDP_SEND_THREAD: 'false' }).udpSendThread).toBe(false);
    expect(loadConfig({ PRESENCE_UDP_SEND_THREAD: 'true' }).udpSendThread).toBe(true);
  });

  it('reads the helper threads\' nice steps, 0 to 19', () => {
    expect(loadConfig({ PRESENCE_HELPER_THREAD_NICE: '0' }).helperThreadNice).toBe(0);
    expect(loadConfig({ PRESENCE_HELPER_THREAD_NICE: '19' }).helperThreadNice).toBe(19);
  });

  it('reads listeners, including IPv6 addresses, and treats empty variables as unset', () => {
    const config = loadConfig({ PRESENCE_SIP_LISTEN: 'udp:0.0.0.0:5070, tcp:[::1]:5071', PRESENCE_HTTP_LISTEN: '[::]:9000', PRESENCE_DB: '' });
    expect(config.sipListen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5070 },
      { transport: 'tcp', host: '::1', port: 5071 },
    ]);
    expect(config.httpListen).toEqual({ host: '::', port: 9000 });
    expect(config.dbPath).toBe('./data/presence.db');
  });

  it.each([
    ['PRESENCE_SIP_LISTEN', 'sctp:127.0.0.1:5060', /unknown transport "sctp"/],
    ['PRESENCE_SIP_LISTEN', 'udp:127.0.0.1', /transport:host:port/],
    ['PRESENCE_SIP_LISTEN', 'udp:127.0.0.1:65536', /not a port number/],
    ['PRESENCE_HTTP_LISTEN', 'localhost:http', /host:port/],
    ['PRESENCE_HTTP_LISTEN', '127.0.0.1:70000', /not a port number/],
    ['DRACHTIO_PORT', 'abc', /not a port number/],
    ['LOG_LEVEL', 'verbose', /"verbose"/],
    ['PRESENCE_SIP_BACKEND', 'kamailio', /native or drachtio/],
    ['PRESENCE_NOTIFY_MAX_TIMEOUTS', '0', /at least 1/],
    ['PRESENCE_DEACTIVATE_ON_STOP', 'maybe', /true or false/],
    ['PRESENCE_UDP_SEND_THREAD', 'sometimes', /true or false/],
    ['PRESENCE_HELPER_THREAD_NICE', '20', /from 0 to 19/],
    ['PRESENCE_HELPER_THREAD_NICE', '-5', /from 0 to 19/],
  ])('refuses %s=%s with a ConfigError that names the variable', (variable, value, reason) => {
    const err = configError({ [variable]: value });
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(reason);
  });

  it('refuses a TLS listener without a certificate', () => {
    const err = configError({ PRESENCE_SIP_LISTEN: 'tls:0.0.0.0:5061' });
    expect(err.message).toMatch(/tls needs PRESENCE_TLS_CERT and PRESENCE_TLS_KEY/);
  });

  it('refuses a secure WebSocket listener without a certificate', () => {
    expect(configError({ PRESENCE_SIP_LISTEN: 'wss:0.0.0.0:7443' }).message).toMatch(/wss needs PRESENCE_TLS_CERT/);
  });

  it('refuses a certificate without its key, and a key without its certificate', () => {
    expect(configError({ PRESENCE_TLS_CERT: '/etc/ssl/sip.pem' }).message).toMatch(/PRESENCE_TLS_CERT and PRESENCE_TLS_KEY go together/);
    expect(configError({ PRESENCE_TLS_KEY: '/etc/ssl/sip.key' }).message).toMatch(/PRESENCE_TLS_CERT and PRESENCE_TLS_KEY go together/);
  });

  it('accepts a TLS listener with certificate and key', () => {
    const config = loadConfig({ PRESENCE_SIP_LISTEN: 'tls:0.0.0.0:5061', PRESENCE_TLS_CERT: '/c.pem', PRESENCE_TLS_KEY: '/k.pem' });
    expect(config.tls).toEqual({ certPath: '/c.pem', keyPath: '/k.pem' });
    expect(config.sipListen).toEqual([{ transport: 'tls', host: '0.0.0.0', port: 5061 }]);
  });

  it('accepts a log level in any case', () => {
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  });
});

describe('argvToEnv', () => {
  it('maps --sip-listen followed by its value to PRESENCE_SIP_LISTEN', () => {
    expect(argvToEnv(['--sip-listen', 'udp:0.0.0.0:5060'])).toEqual({ PRESENCE_SIP_LISTEN: 'udp:0.0.0.0:5060' });
  });

  it('maps --log-level=debug to LOG_LEVEL', () => {
    expect(argvToEnv(['--log-level=debug'])).toEqual({ LOG_LEVEL: 'debug' });
  });

  it('maps several flags, with or without the PRESENCE_ prefix in the variable', () => {
    expect(argvToEnv(['--db', '/var/lib/presence.db', '--drachtio-host=10.0.0.2', '--notify-max-timeouts', '5'])).toEqual({
      PRESENCE_DB: '/var/lib/presence.db',
      DRACHTIO_HOST: '10.0.0.2',
      PRESENCE_NOTIFY_MAX_TIMEOUTS: '5',
    });
  });

  it('keeps an = inside the value', () => {
    expect(argvToEnv(['--drachtio-secret=a=b'])).toEqual({ DRACHTIO_SECRET: 'a=b' });
  });

  it('refuses an unknown flag, naming it', () => {
    expect(() => argvToEnv(['--listen', 'x'])).toThrow(ConfigError);
    expect(() => argvToEnv(['--listen', 'x'])).toThrow(/unknown option --listen/);
  });

  it('refuses a flag without its value and a bare argument', () => {
    expect(() => argvToEnv(['--sip-listen'])).toThrow(/--sip-listen needs a value/);
    expect(() => argvToEnv(['serve'])).toThrow(/unexpected argument serve/);
  });
});

describe('PRESENCE_SIP_TRUSTED', () => {
  it('takes IPv4 and IPv6 addresses and CIDRs', () => {
    expect(loadConfig({ PRESENCE_SIP_TRUSTED: '10.0.0.0/8, 192.0.2.7,::1,fd00::/8' }).sipTrusted).toEqual(['10.0.0.0/8', '192.0.2.7', '::1', 'fd00::/8']);
  });

  it('refuses a bad address or prefix at boot, naming the variable', () => {
    for (const bad of ['999.1.1.1', '10.0.0.0/99', 'fd00::/129', 'proxy.example.com', '1::2::3', '10.0.0.0/8/1']) {
      expect(() => loadConfig({ PRESENCE_SIP_TRUSTED: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ PRESENCE_SIP_TRUSTED: bad }), bad).toThrow(/PRESENCE_SIP_TRUSTED/);
    }
  });
});
