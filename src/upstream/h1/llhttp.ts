import { createRequire } from 'node:module';

/**
 * node's own llhttp binding, the parser node:http runs on every message (`_http_common`'s HTTPParser): the same
 * strictness against request smuggling and the same header-size limit, without undici's WebAssembly copy of llhttp
 * and its per-request objects. Typed here with only what Portico's client uses.
 */
export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code?: string; bytesParsed?: number });
  finish(): undefined | (Error & { code?: string });
  [key: number]: unknown;
}

interface LlhttpModule {
  /** Method names by llhttp's method number (what onHeadersComplete reports for a request). */
  methods: string[];
  HTTPParser: {
    new(): LlhttpParser;
    readonly REQUEST: number;
    readonly RESPONSE: number;
    readonly kOnHeaders: number;
    readonly kOnHeadersComplete: number;
    readonly kOnBody: number;
    readonly kOnMessageComplete: number;
    readonly kLenientNone: number;
  };
}

const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as LlhttpModule;

export const Llhttp = HTTPParser;
export const llhttpMethods: readonly string[] = methods;

export type OnHeaders = (headers: string[], url: string) => void;
/** What llhttp reports at the end of a response's header section; returning 1 tells it the message has no body. */
export type OnHeadersComplete = (versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number,
  url: string, statusCode: number, statusMessage: string, upgrade: boolean, shouldKeepAlive: boolean) => number;
