import type { FastifyInstance } from 'fastify';

export interface HttpListen {
  host: string;
  port: number;
}

/** A listening API server. */
export interface HttpServer {
  /** The address actually bound (port 0 picks a free one). */
  address: HttpListen;
  /** Stops accepting connections, lets in-flight requests finish, then closes (Fastify's close). */
  close(): Promise<void>;
}

/** Listens with a built app (api/app.ts). */
export async function startHttpServer(app: FastifyInstance, listen: HttpListen): Promise<HttpServer> {
  await app.listen({ host: listen.host, port: listen.port });
  const bound = app.server.address();
  const address = bound && typeof bound === 'object' ? { host: bound.address, port: bound.port } : listen;
  let closing: Promise<void> | undefined;
  return {
    address,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
