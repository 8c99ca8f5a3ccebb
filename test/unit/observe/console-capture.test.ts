import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { captureConsole } from '../../../src/observe/console-capture.js';

function memoryLog(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk.toString()); cb(); } });
  const log = pino({ level: 'info' }, sink);
  return { log, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('captureConsole', () => {
  it('turns console output into structured log lines, not stdout, and restores the originals', () => {
    const { log, lines } = memoryLog();
    const stdoutWrite = process.stdout.write;
    let stdout = '';
    process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
    const before = { log: console.log, error: console.error, info: console.info };
    const restore = captureConsole(log);
    expect(console.log).not.toBe(before.log);
    try {
      console.log(new Error('None of the sentinels are available'));
      console.error('boom %d', 42);
      console.info({ a: 1 });
    } finally {
      restore();
      process.stdout.write = stdoutWrite;
    }
    expect(stdout).toBe('');
    const got = lines();
    expect(got).toHaveLength(3);
    expect(got[0]).toMatchObject({ level: 40, msg: 'a library wrote to the console' });
    expect(String(got[0]?.console)).toMatch(/^Error: None of the sentinels are available\n\s+at /);
    expect(got[1]).toMatchObject({ level: 50, console: 'boom 42' });
    expect(got[2]).toMatchObject({ level: 40, console: '{ a: 1 }' });
    expect({ log: console.log, error: console.error, info: console.info }).toEqual(before); // the originals are back
  });

  it('cuts very long output', () => {
    const { log, lines } = memoryLog();
    const restore = captureConsole(log);
    try { console.warn('x'.repeat(10_000)); } finally { restore(); }
    const text = String(lines()[0]?.console);
    expect(text.length).toBe(4097);
    expect(text.endsWith('…')).toBe(true);
  });
});
