// Option parsers and the options shared by commands. Parsers reject bad values with a message
// commander prints as "error: option '--x <n>' argument 'y' is invalid. <message>".
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { PipelineOptions } from '../pipeline/index.js';

export function positiveInt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Must be an integer >= 1.');
  return n;
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Must be an integer >= 0.');
  return n;
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Must be a number > 0.');
  return n;
}

/** The validation fraction: the same range the config's data.valid_fraction accepts. */
export function validFraction(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 0.5) throw new InvalidArgumentError('Must be a number in [0, 0.5].');
  return n;
}

export const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Flags every command may carry; which ones a command accepts is decided where it is defined. */
export interface CommonFlags {
  dataDir: string;
  resultsDir: string;
  set: string[];
  threads?: number;
  quiet?: boolean;
  force?: boolean;
  /** false with --no-report (commands that train). */
  report?: boolean;
}

export function pipelineOptions(f: CommonFlags): PipelineOptions {
  return {
    dataDir: resolve(f.dataDir),
    resultsDir: resolve(f.resultsDir),
    force: f.force ?? false,
    quiet: f.quiet ?? false,
    threads: f.threads,
    report: f.report,
  };
}

export function addDirOptions(cmd: Command, which: { data?: boolean; results?: boolean } = { data: true, results: true }): Command {
  if (which.data) cmd.option('--data-dir <dir>', 'where prepared datasets live', 'datasets');
  if (which.results) cmd.option('--results-dir <dir>', 'where run directories are written', 'results');
  return cmd;
}

export function addSetOption(cmd: Command): Command {
  return cmd.option('--set <key=value>', 'override a config field, e.g. --set train.epochs=3 (repeatable)', collect, []);
}

/** A command that reads a config: <config>, --set, the directories, --threads, --quiet. */
export function configCommand(program: Command, name: string, description: string): Command {
  const cmd = program.command(name).description(description).argument('<config>', 'experiment config (YAML)');
  addSetOption(cmd);
  addDirOptions(cmd);
  return cmd
    .option('--threads <n>', 'CPU threads (default: the config\'s `threads`, else all cores)', positiveInt)
    .option('--quiet', 'no progress output');
}
