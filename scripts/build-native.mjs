// Builds the native addon with cmake-js during `npm ci` / `npm install`.
// A failed build does not abort the install: the log is kept in build/native-build.log and
// `evnn` reports the problem with the fix, so the TypeScript parts still install and run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const extra = [];
if (process.env.EVNN_CUDA === '1') extra.push('--CDEVNN_CUDA=ON');
if (process.env.EVNN_BLAS) extra.push(`--CDEVNN_BLAS=${process.env.EVNN_BLAS}`);
const args = [cmakeJs, 'compile', '--directory', 'native', '--out', 'build', ...extra];
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? '2';
const res = spawnSync(process.execPath, args, {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
  maxBuffer: 64 * 1024 * 1024,
});
mkdirSync(join(root, 'build'), { recursive: true });
const log = `$ node ${args.join(' ')}\n${res.stdout ?? ''}\n${res.stderr ?? ''}\n${res.error ? String(res.error) : ''}`;
writeFileSync(join(root, 'build', 'native-build.log'), log);
if (res.status === 0) {
  console.log('evnn: native addon built (build/Release/evnn.node)');
} else {
  console.error(log.split('\n').slice(-40).join('\n'));
  console.error(
    '\nevnn: the native addon failed to build; the log is in build/native-build.log.\n' +
      'Install CMake (>= 3.18) and a C++17 compiler (g++), optionally libopenblas-dev, then run `npm run build:native`.',
  );
  if (process.env.EVNN_REQUIRE_NATIVE === '1') process.exit(1);
}
