/**
 * An attempt's answer (src/modules/webhooks/webhook.delivery.ts): only its status counts. A body
 * is not read: an endpoint that answers 200 and then streams without end must neither hold the
 * attempt until its timeout (and be counted as failed) nor fill the worker's memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAttempt } from '../../src/modules/webhooks/webhook.delivery';

describe('a webhook attempt', () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/endless`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is delivered on a 2xx status without reading an endless body', async () => {
    const started = Date.now();
    const outcome = await sendAttempt({ url, eventId: 'msg_1', body: '{}', secrets: ['whsec_' + Buffer.alloc(32).toString('base64')] }, { timeoutMs: 2_000, allowHttp: true, allowPrivate: true });
    expect(outcome).toEqual({ kind: 'delivered', code: 200 });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
