import type { Key } from 'ink';
import { maxDetailScroll } from './detail.js';
import type { Entry } from './entry.js';
import { parseFilter } from './filter.js';
import { commandFor, keyNames, type Command, type Scope } from './keymap.js';
import type { ReplayResult } from './replay.js';
import type { FlowSource } from './source.js';
import type { FlowStore } from './store.js';

export type Screen = 'list' | 'detail' | 'backends' | 'help';

/** Side effects the keys trigger, injected so component tests need no files or network. */
export interface TuiActions {
  writeCurl(e: Entry): Promise<{ command: string; path: string }>;
  saveHar(entries: Entry[]): Promise<string>;
  replay(e: Entry): Promise<ReplayResult>;
  quit(): void;
}

/**
 * Screen state and key handling, outside React: keys become commands through the keymap table, commands change
 * the store or this state, and the App renders both on its frame timer.
 */
export class TuiController {
  screen: Screen = 'list';
  private back: Screen = 'list';
  editing = false;
  draft = '';
  filterError: { message: string; position: number } | undefined;
  /** Flows the filter being typed would show (undefined while it does not parse). */
  previewCount: number | undefined;
  message = '';
  /** The flow the detail screen shows (pinned: new flows do not change it). */
  detail: Entry | undefined;
  curlText: string | undefined;
  /** Lines the detail screen is scrolled by. */
  detailScroll = 0;
  pageRows = 10;
  version = 0;
  /** How often the backends screen re-reads GET /upstreams. */
  backendsRefreshMs = 2_000;
  private fetching = false;
  private fetchedAt = -Infinity;

  constructor(private readonly store: FlowStore, private readonly source: FlowSource, private readonly actions: TuiActions) {}

  handleKey(input: string, key: Key): void {
    this.version++;
    for (const name of keyNames(input, key)) {
      if (this.editing) this.editKey(name);
      else {
        const cmd = commandFor(this.screen as Scope, name);
        if (cmd) this.run(cmd);
      }
    }
    if (this.editing) this.preview(); // once per chunk, not per character of a paste
  }

  /** While typing: the parse error with its position, or how many buffered flows the draft matches. */
  private preview(): void {
    const r = parseFilter(this.draft);
    this.filterError = r.ok ? undefined : { message: r.message, position: r.position };
    this.previewCount = r.ok ? this.store.count(r.match) : undefined;
  }

  private editKey(name: string): void {
    if (name === 'esc') {
      this.editing = false;
      this.filterError = undefined;
    } else if (name === 'enter') {
      const r = this.store.setFilter(this.draft);
      if (r.ok) {
        this.editing = false;
        this.filterError = undefined;
      } else this.filterError = { message: r.message, position: r.position };
    } else if (name === 'backspace') {
      this.draft = this.draft.slice(0, -1);
    } else if (name.length === 1) {
      this.draft += name;
    }
  }

  private show(screen: Screen): void {
    if (screen !== this.screen) this.back = this.screen === 'help' ? this.back : this.screen;
    this.screen = screen;
  }

  run(cmd: Command): void {
    const s = this.store;
    switch (cmd) {
      case 'cursor.up': return this.screen === 'detail' ? this.scrollDetail(-1) : s.move(-1);
      case 'cursor.down': return this.screen === 'detail' ? this.scrollDetail(1) : s.move(1);
      case 'page.up': return s.move(-this.pageRows);
      case 'page.down': return s.move(this.pageRows);
      case 'cursor.top': return s.move(-Infinity);
      case 'cursor.bottom': return s.move(Infinity);
      case 'view.detail':
        this.detail = s.selected();
        this.curlText = undefined;
        this.detailScroll = 0;
        if (this.detail) this.show('detail');
        return;
      case 'view.back':
        this.screen = this.screen === 'help' ? this.back : 'list';
        return;
      case 'view.backends': return this.openBackends();
      case 'view.help': return this.show(this.screen === 'help' ? this.back : 'help');
      case 'filter.edit':
        this.editing = true;
        this.draft = s.filterText;
        return;
      case 'flows.pause': return s.togglePause();
      case 'flows.clear':
        this.message = 'cleared';
        return s.clear();
      case 'flow.curl': return this.curl();
      case 'flow.har': return this.har();
      case 'flow.replay': return this.replay();
      case 'app.quit': return this.actions.quit();
    }
  }

  private scrollDetail(delta: number): void {
    const max = this.detail ? maxDetailScroll(this.detail, this.curlText, this.pageRows) : 0;
    this.detailScroll = Math.max(0, Math.min(this.detailScroll + delta, max));
  }

  /** Called by the frame timer (ms since the App started): keeps the backends screen fresh over --connect. */
  onFrame(elapsedMs: number): void {
    if (this.screen === 'backends' && elapsedMs - this.fetchedAt >= this.backendsRefreshMs) {
      this.fetchedAt = elapsedMs;
      this.fetchUpstreams();
    }
  }

  private openBackends(): void {
    this.show('backends');
    this.fetchUpstreams();
  }

  private fetchUpstreams(): void {
    const fetch = this.source.upstreams;
    if (!fetch || this.fetching) return;
    this.fetching = true;
    fetch.call(this.source)
      .then((body) => { this.store.backends.upstreams(body); this.version++; })
      .catch((err: unknown) => this.say(`GET /upstreams: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => { this.fetching = false; });
  }

  private say(text: string): void {
    this.message = text;
    this.version++;
  }

  private curl(): void {
    const e = this.detail;
    if (!e) return;
    this.actions.writeCurl(e)
      .then(({ command, path }) => { this.curlText = command; this.say(`curl command written to ${path}`); })
      .catch((err: unknown) => this.say(`curl: ${String(err)}`));
  }

  private har(): void {
    const shown = this.store.shown();
    this.actions.saveHar(shown)
      .then((path) => this.say(`${shown.filter((e) => e.kind === 'flow').length} flows saved as HAR to ${path}`))
      .catch((err: unknown) => this.say(`HAR: ${String(err)}`));
  }

  private replay(): void {
    const e = this.detail;
    if (!e) return;
    this.say(`replaying ${e.flow.method} ${e.flow.url}…`);
    void this.actions.replay(e).then((r) => this.say(r.text));
  }
}
