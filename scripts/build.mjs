// Builds conex: tsc type-checks and emits dist/ (tests run from there), esbuild bundles the CLI into one file
// (dist/conex.js) so that `conex` starts by reading one script instead of resolving dozens of modules.
// The bundle is written to a temporary name and renamed, so a running `conex` never sees half a file, and a failed
// type-check leaves the previous bundle in place.
import { execFileSync } from 'node:child_process'
import { build } from 'esbuild'
import { renameSync, mkdirSync, existsSync, statSync } from 'node:fs'

mkdirSync('dist', { recursive: true })
// The SO_PEERCRED addon: one C file compiled against Node's headers with plain gcc (no node-gyp, no download).
const addonSrc = 'native/peercred.c'
const addonOut = 'dist/peercred.node'
if (!existsSync(addonOut) || statSync(addonOut).mtimeMs < statSync(addonSrc).mtimeMs) {
  const include = ['/usr/include/node', `${process.execPath.replace(/\/bin\/node$/, '')}/include/node`].find((d) => existsSync(`${d}/node_api.h`))
  if (include === undefined) console.error('build: node_api.h not found; the audit trail will record peers as "unknown"')
  else execFileSync('gcc', ['-O2', '-Wall', '-shared', '-fPIC', `-I${include}`, '-o', addonOut, addonSrc], { stdio: 'inherit' })
}
let typecheckFailed = false
try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' })
} catch {
  typecheckFailed = true
}
const tmp = `dist/.conex.${process.pid}.js`
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3', 'node-unix-socket'],
  logLevel: 'warning',
})
renameSync(tmp, 'dist/conex.js')
if (typecheckFailed) {
  console.error('build: type errors (see above); dist/ was emitted anyway')
  process.exit(1)
}
