/** Shared helpers for the notifier tests: a stand-in Slack webhook server and a fake clock. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../lambda/notifier/deliver';

export const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'events');

export function fixture(name: string): unknown {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return name.endsWith('.json') ? (() => { try { return JSON.parse(text); } catch { return text; } })() : text;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface SlackStub {
  url: string;
  /** Parsed JSON bodies of every request, in order. */
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1; `reply(n)` answers the n-th request (0-based). */
export async function startSlackStub(reply: (n: number, body: any) => Reply = () => ({ status: 200, body: 'ok' })): Promise<SlackStub> {
  const requests: { path: string; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      let body: any = data;
      try {
        body = JSON.parse(data);
      } catch {
        /* keep text */
      }
      const n = requests.length;
      requests.push({ path: req.url ?? '', body });
      const r = reply(n, body);
      res.writeHead(r.status, { 'content-type': 'text/plain', ...r.headers });
      res.end(r.body ?? (r.status === 200 ? 'ok' : ''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // Shaped like a real webhook so that redaction is exercised on a realistic URL.
    url: `http://127.0.0.1:${port}/services/T0TESTTEAM/B0TESTHOOK/xoxSecretToken1234567890`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A clock whose `sleep` advances time instantly and records what was asked. */
export class FakeClock implements Clock {
  public t = 1_800_000_000_000;
  public readonly slept: number[] = [];
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.slept.push(ms);
    this.t += Math.max(0, ms);
  };
}
