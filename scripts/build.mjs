// Builds conex: tsc type-checks and emits dist/ (tests run from there), esbuild bundles the CLI into one file
// (dist/conex.js) so that `conex` starts by reading one script instead of resolving dozens of modules.
import { execFileSync } from 'node:child_process'
import { build } from 'esbuild'
import { rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' })
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/conex.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3', 'node-unix-socket'],
  logLevel: 'warning',
})
