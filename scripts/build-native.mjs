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
const strict = process.env.EVNN_REQUIRE_NATIVE === '1';
// EVNN_CUDA: 1 forces the CUDA backend on, 0 off; unset, native/CMakeLists.txt decides (auto).
const cudaMode = ({ 1: 'on', 0: 'off' })[process.env.EVNN_CUDA ?? ''] ?? (process.env.EVNN_CUDA || 'auto');
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? '2';

// configure (always: so the options apply to an existing build directory too), then build
function build(cuda) {
  const options = ['--directory', 'native', '--out', 'build', `--CDEVNN_CUDA=${cuda}`];
  if (process.env.EVNN_BLAS) options.push(`--CDEVNN_BLAS=${process.env.EVNN_BLAS}`);
  let log = '';
  for (const command of ['configure', 'build']) {
    const args = [cmakeJs, command, ...options];
    const res = spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
      maxBuffer: 64 * 1024 * 1024,
    });
    log += `$ node ${args.join(' ')}\n${res.stdout ?? ''}\n${res.stderr ?? ''}\n${res.error ? String(res.error) : ''}\n`;
    if (res.status !== 0) return { ok: false, log };
  }
  return { ok: true, log };
}

mkdirSync(join(root, 'build'), { recursive: true });
let r = build(cudaMode);
// The CUDA sources are compiled even without cuBLAS, as a check (CI must fail on an error there).
// On a user's machine an nvcc that cannot compile them must not cost the CPU addon: build again
// without CUDA, and say so.
if (!r.ok && !strict && cudaMode === 'auto' && /evnn_cuda_compile_check/.test(r.log)) {
  console.warn('evnn: the CUDA sources did not compile with this nvcc (log: build/native-build-cuda.log); building without CUDA');
  writeFileSync(join(root, 'build', 'native-build-cuda.log'), r.log);
  r = build('off');
}
writeFileSync(join(root, 'build', 'native-build.log'), r.log);
if (r.ok) {
  console.log('evnn: native addon built (build/Release/evnn.node)');
} else {
  console.error(r.log.split('\n').slice(-40).join('\n'));
  console.error(
    '\nevnn: the native addon failed to build; the log is in build/native-build.log.\n' +
      'Install CMake (>= 3.18) and a C++17 compiler (g++), optionally libopenblas-dev, then run `npm run build:native`.',
  );
  if (strict) process.exit(1);
}
