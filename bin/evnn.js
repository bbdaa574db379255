#!/usr/bin/env node
// Thin launcher: all logic lives in dist/cli (built from src/cli by `npm ci`).
import('../dist/cli/main.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli')) {
      console.error('evnn: the TypeScript build is missing (dist/). Run `npm ci` or `npm run build`.');
    } else {
      console.error(err && err.stack ? err.stack : String(err));
    }
    process.exit(1);
  });
