// The synthetic Speech Commands fixture for the GSCv2 tests: scripts/make-gscv2-fixture.sh run
// once per test file into a temp folder (a few seconds). Without espeak-ng or sox the tests are
// skipped with a message saying so, except in CI (CI=true), where missing tools fail them.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { tempDir } from './fixtures.js';

export const FIXTURE_SCRIPT = fileURLToPath(new URL('../../scripts/make-gscv2-fixture.sh', import.meta.url));

export interface Gscv2Fixture {
  /** Holds the two unpacked trees (a folder source). */
  folderSource: string;
  /** Holds only the two .tar.gz archives (an archive source). */
  archiveSource: string;
  main: string;
  test: string;
  mainArchive: string;
  testArchive: string;
  /** A scratch folder for the test file, removed afterwards. */
  scratch: string;
}

const REQUIRED_TOOLS = ['espeak-ng', 'sox', 'sha1sum', 'tar', 'gzip'];

export function missingTools(): string[] {
  return REQUIRED_TOOLS.filter((t) => {
    try {
      execFileSync('bash', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

const inCi = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
};

/**
 * A describe block whose tests get the fixture through `fx()`. Skipped (saying why) when the tools
 * are missing outside CI; in CI a missing tool fails the block.
 */
export function describeWithGscv2Fixture(name: string, body: (fx: () => Gscv2Fixture) => void): void {
  const missing = missingTools();
  if (missing.length > 0 && !inCi()) {
    const why = `${missing.join(', ')} not installed (apt-get install espeak-ng sox to run them)`;
    console.warn(`skipping the GSCv2 fixture tests "${name}": ${why}`);
    describe.skip(`${name} [skipped: ${why}]`, () => {
      it('needs the synthetic fixture', () => {});
    });
    return;
  }
  describe(name, () => {
    let fixture: Gscv2Fixture | undefined;
    let tmp: ReturnType<typeof tempDir> | undefined;
    beforeAll(() => {
      if (missing.length > 0) throw new Error(`the GSCv2 fixture needs ${missing.join(', ')}, not installed here (CI is set, so this fails rather than skips)`);
      tmp = tempDir('evnn-gscv2-');
      const folderSource = join(tmp.dir, 'source');
      execFileSync('bash', [FIXTURE_SCRIPT, '--archives', '--jobs', String(availableParallelism()), folderSource], { stdio: ['ignore', 'ignore', 'inherit'] });
      const archiveSource = join(tmp.dir, 'archives');
      mkdirSync(archiveSource);
      const mainArchive = join(archiveSource, 'speech_commands_v0.02.tar.gz');
      const testArchive = join(archiveSource, 'speech_commands_test_set_v0.02.tar.gz');
      renameSync(join(folderSource, 'speech_commands_v0.02.tar.gz'), mainArchive);
      renameSync(join(folderSource, 'speech_commands_test_set_v0.02.tar.gz'), testArchive);
      const scratch = join(tmp.dir, 'scratch');
      mkdirSync(scratch);
      fixture = {
        folderSource,
        archiveSource,
        main: join(folderSource, 'speech_commands_v0.02'),
        test: join(folderSource, 'speech_commands_test_set_v0.02'),
        mainArchive,
        testArchive,
        scratch,
      };
    }, 120_000);
    afterAll(() => tmp?.cleanup());
    body(() => {
      if (!fixture) throw new Error('the GSCv2 fixture was not built (see the beforeAll error)');
      return fixture;
    });
  });
}
