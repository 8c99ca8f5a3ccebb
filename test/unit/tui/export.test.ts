import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansiCQuote, curlCommand, shellQuote, writeCurlFile } from '../../../src/tui/curl.js';
import { detailLines } from '../../../src/tui/detail.js';
import { flowEntry, tunnelEntry } from '../../../src/tui/entry.js';
import { commandFor, helpLine, keyNames } from '../../../src/tui/keymap.js';
import { defaultActions } from '../../../src/tui/run.js';
import { record, tunnel } from './fixtures.js';

const post = flowEntry(1, record({
  id: 'a/b', method: 'POST', url: "http://h.test/it's?q=1", status: 201, bytesIn: 10,
  requestHeaders: [['host', 'h.test'], ['content-type', 'application/json'], ['cookie', '[REDACTED]'], ['proxy-authorization', 'Basic x']],
  responseHeaders: [['content-type', 'text/plain'], ['location', '/next']],
}));

describe('curl export', () => {
  it('quotes for the shell and drops hop-by-hop, proxy credentials and redacted fields', () => {
    expect(shellQuote('plain/path')).toBe('plain/path');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(curlCommand(post, 'http://127.0.0.1:8080'))
      .toBe(`curl --proxy http://127.0.0.1:8080 -X POST -H 'content-type: application/json' 'http://h.test/it'\\''s?q=1'`
        + '  # NOTE: request body of 10 bytes was not captured (log.bodies / --log-bodies is off, or the body is binary or compressed)');
    expect(curlCommand(flowEntry(2, record({ method: 'HEAD' })))).toBe('curl --head http://example.test/index.html');
    expect(curlCommand(tunnelEntry(3, tunnel(), 'now'), 'http://p:1')).toBe('curl --proxy http://p:1 https://secure.test/');
  });

  it('writes portico-flow-<id>.sh with a safe file name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-'));
    const path = await writeCurlFile(dir, post);
    expect(path).toBe(join(dir, 'portico-flow-a_b.sh'));
    const script = await readFile(path, 'utf8');
    expect(script).toContain('curl -X POST');
    expect(script.split('\n').slice(0, 2)).toEqual(['#!/usr/bin/env bash', "# POST http://h.test/it's?q=1 (flow a/b; request body NOT included, see the note at the end of the command)"]);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
  });
});

describe('request bodies in curl commands', () => {
  const body = (requestBody: string | undefined, bytesIn: number) => flowEntry(1, record({
    method: 'POST', url: 'http://h.test/api', bytesIn, requestHeaders: [['content-type', 'application/json']], ...(requestBody !== undefined ? { requestBody } : {}),
  }));

  it('$\'…\' quoting gives bash back the exact bytes (every byte value but NUL, and UTF-8 text)', () => {
    const all = Uint8Array.from({ length: 255 }, (_, i) => i + 1);
    for (const bytes of [all, Buffer.from('{"q":"it\'s \\ $(rm -rf /) `x` é ✓"}\n\tend', 'utf8'), Buffer.from('\xff' + 'a')]) {
      const quoted = ansiCQuote(bytes)!;
      expect(Buffer.compare(execFileSync('bash', ['-c', `printf '%s' ${quoted}`]), Buffer.from(bytes))).toBe(0);
    }
    expect(ansiCQuote(Uint8Array.from([0x61, 0, 0x62]))).toBeUndefined();
  });

  it('a body captured whole goes in with --data-binary', () => {
    expect(curlCommand(body('{"a":"it\'s"}', 12))).toBe(`curl -X POST -H 'content-type: application/json' --data-binary $'{"a":"it\\'s"}' http://h.test/api`);
  });

  it('a body starting with @ uses --data-raw, so curl never reads it as a file name', () => {
    expect(curlCommand(body('@/etc/passwd', 12))).toContain(`--data-raw $'@/etc/passwd' `);
  });

  it('a truncated or uncaptured body is left out, and the command says so', () => {
    expect(curlCommand(body('{"a":1', 40))).toBe(`curl -X POST -H 'content-type: application/json' http://h.test/api`
      + '  # NOTE: request body truncated: only the first 6 of 40 bytes were captured (raise log.bodies / --log-bodies)');
    expect(curlCommand(body(undefined, 40))).toContain('# NOTE: request body of 40 bytes was not captured');
    expect(curlCommand(body(undefined, 0))).not.toContain('NOTE');
  });

  it('the detail screen says what x and r can resend', () => {
    expect(detailLines(body('{"a":1}', 7))).toContain('request body: 7 bytes, captured whole (x and r resend it)');
    expect(detailLines(body('{"a"', 7)).at(-1)).toBe('request body truncated: only the first 4 of 7 bytes were captured (raise log.bodies / --log-bodies); x and r leave it out');
    expect(detailLines(body(undefined, 0)).at(-1)).toBe('request body: none');
  });
});

describe('keymap', () => {
  const none = { upArrow: false, downArrow: false, return: false, escape: false } as Parameters<typeof keyNames>[1];
  it('splits a chunk into keys and maps them per screen', () => {
    expect(keyNames('jjj', none)).toEqual(['j', 'j', 'j']);
    expect(keyNames('4xx\r', none)).toEqual(['4', 'x', 'x', 'enter']);
    expect(keyNames('', { ...none, downArrow: true })).toEqual(['down']);
    expect(commandFor('list', 'j')).toBe('cursor.down');
    expect(commandFor('detail', 'j')).toBe('cursor.down'); // scrolls the detail screen
    expect(commandFor('detail', 'c')).toBeUndefined();
    expect(commandFor('detail', 'x')).toBe('flow.curl');
    expect(commandFor('backends', 'q')).toBe('app.quit');
    expect(helpLine('detail')).toBe('↑/k up  ↓/j down  esc back  p pause  b backends  x curl  w save HAR  r replay  ? help  q quit');
  });
});

describe('HAR from the detail/list key (w)', () => {
  it('saves the shown HTTP flows through observe/har, leaving tunnels out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-tui-'));
    const source = { label: 't', start: () => {}, status: () => 'live', close: () => {} };
    const actions = defaultActions({ source, dir, version: '9.9.9' }, { now: () => Date.UTC(2026, 0, 2), monotonic: () => 0 }, () => {});
    const path = await actions.saveHar([post, tunnelEntry(2, tunnel(), 'now')]);
    expect(path).toBe(join(dir, 'portico-flows-2026-01-02T00-00-00-000Z.har'));
    const har = JSON.parse(await readFile(path, 'utf8')) as { log: { version: string; entries: Array<{ request: { method: string } }> } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((e) => e.request.method)).toEqual(['POST']);
  });
});
