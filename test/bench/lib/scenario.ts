/** What a scenario hands back to the orchestrator: a Markdown section for stdout and data for the JSON file. */
import type { BenchOptions } from './options.js';

export interface ScenarioReport {
  readonly name: string;
  readonly markdown: string;
  readonly data: unknown;
}

export interface ScenarioContext {
  readonly options: BenchOptions;
  /** A scratch folder removed at the end of the run (certificates, CA). */
  readonly tmp: string;
}
