/** What a scenario hands back to the orchestrator: a Markdown section for stdout and data for the JSON file. */
import type { BenchOptions } from './options.js';
import type { QuietGate } from './quiet.js';

export interface ScenarioReport {
  readonly name: string;
  readonly markdown: string;
  readonly data: unknown;
}

export interface ScenarioContext {
  readonly options: BenchOptions;
  /** A scratch folder removed at the end of the run (certificates, CA). */
  readonly tmp: string;
  /** Waits for other jobs on the shared machine to calm down before each measured run. */
  readonly quiet: QuietGate;
}
