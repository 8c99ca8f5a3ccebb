import type { Key } from 'ink';

/** Screens the keys apply to; `global` bindings work on every screen except while typing a filter. */
export type Scope = 'global' | 'list' | 'detail' | 'backends' | 'help';

export type Command =
  | 'cursor.up' | 'cursor.down' | 'page.up' | 'page.down' | 'cursor.top' | 'cursor.bottom'
  | 'view.detail' | 'view.back' | 'view.backends' | 'view.help' | 'filter.edit'
  | 'flows.pause' | 'flows.clear' | 'flow.curl' | 'flow.har' | 'flow.replay' | 'app.quit';

export interface Binding {
  /** Key names: a printable character, or up, down, pageup, pagedown, home, end, enter, esc. */
  readonly keys: readonly string[];
  readonly command: Command;
  readonly scopes: readonly Scope[];
  readonly help: string;
}

/** Keys as data (mitmproxy's defaultkeys.py): the input handler and the help footer both read this table. */
export const KEYMAP: readonly Binding[] = [
  { keys: ['up', 'k'], command: 'cursor.up', scopes: ['list', 'detail'], help: 'up' },
  { keys: ['down', 'j'], command: 'cursor.down', scopes: ['list', 'detail'], help: 'down' },
  { keys: ['pageup'], command: 'page.up', scopes: ['list'], help: 'page up' },
  { keys: ['pagedown'], command: 'page.down', scopes: ['list'], help: 'page down' },
  { keys: ['home', 'g'], command: 'cursor.top', scopes: ['list'], help: 'first' },
  { keys: ['end', 'G'], command: 'cursor.bottom', scopes: ['list'], help: 'last (follow)' },
  { keys: ['enter'], command: 'view.detail', scopes: ['list'], help: 'details' },
  { keys: ['esc'], command: 'view.back', scopes: ['detail', 'backends', 'help'], help: 'back' },
  { keys: ['/'], command: 'filter.edit', scopes: ['list'], help: 'filter' },
  { keys: ['p'], command: 'flows.pause', scopes: ['global'], help: 'pause' },
  { keys: ['c'], command: 'flows.clear', scopes: ['list'], help: 'clear' },
  { keys: ['b'], command: 'view.backends', scopes: ['global'], help: 'backends' },
  { keys: ['x'], command: 'flow.curl', scopes: ['detail'], help: 'curl' },
  { keys: ['w'], command: 'flow.har', scopes: ['list', 'detail'], help: 'save HAR' },
  { keys: ['r'], command: 'flow.replay', scopes: ['detail'], help: 'replay' },
  { keys: ['?'], command: 'view.help', scopes: ['global'], help: 'help' },
  { keys: ['q'], command: 'app.quit', scopes: ['global'], help: 'quit' },
];

const SPECIAL: ReadonlyArray<[keyof Key, string]> = [
  ['upArrow', 'up'], ['downArrow', 'down'], ['pageUp', 'pageup'], ['pageDown', 'pagedown'],
  ['home', 'home'], ['end', 'end'], ['return', 'enter'], ['escape', 'esc'],
  ['backspace', 'backspace'], ['delete', 'backspace'], ['leftArrow', 'left'], ['rightArrow', 'right'], ['tab', 'tab'],
];

/** Control characters that can ride inside a chunk ("abc\r" when keys are sent faster than Ink reads them). */
const CONTROL: Readonly<Record<string, string>> = { '\r': 'enter', '\n': 'enter', '\u007f': 'backspace', '\b': 'backspace', '\t': 'tab' };

/**
 * Key names in one stdin chunk. Ink delivers "jjj" typed fast (or sent by tmux) as one input, so printable
 * characters are split one by one; a special key arrives alone.
 */
export function keyNames(input: string, key: Key): string[] {
  for (const [flag, name] of SPECIAL) if (key[flag] === true) return [name];
  if (key.ctrl || key.meta) return [];
  return [...input].map((ch) => CONTROL[ch] ?? ch);
}

export function commandFor(scope: Scope, name: string): Command | undefined {
  for (const b of KEYMAP) {
    if (b.keys.includes(name) && (b.scopes.includes(scope) || b.scopes.includes('global'))) return b.command;
  }
  return undefined;
}

const label = (k: string): string => ({ up: '↑', down: '↓', enter: '⏎', esc: 'esc' })[k] ?? k;

/** The footer: every binding usable on this screen, as "key help" pairs. */
export function helpLine(scope: Scope): string {
  return KEYMAP.filter((b) => b.scopes.includes(scope) || b.scopes.includes('global'))
    .map((b) => `${b.keys.map(label).join('/')} ${b.help}`)
    .join('  ');
}
