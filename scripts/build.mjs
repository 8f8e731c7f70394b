// Builds conex: tsc type-checks and emits dist/ (tests run from there), esbuild bundles the CLI into one file
// (dist/conex.js) so that `conex` starts by reading one script instead of resolving dozens of modules.
// The bundle is written to a temporary name and renamed, so a running `conex` never sees half a file, and a failed
// type-check leaves the previous bundle in place.
import { execFileSync } from 'node:child_process'
import { build } from 'esbuild'
import { renameSync, mkdirSync, existsSync, statSync } from 'node:fs'

mkdirSync('dist', { recursive: true })
// conex's native addons, each one C file compiled against Node's headers with plain gcc (no node-gyp, no download):
// seqpacket (conmon's SOCK_SEQPACKET attach socket; required), peercred (SO_PEERCRED for the audit trail) and
// procspawn (posix_spawn + pidfd for conmon: no fork of the whole service per exec; child_process is the fallback)
// termios (the caller's terminal in raw mode for -t sessions, as podman sets it, and back) and fsbatch (the
// service's per-exec file work, bundle removal and cgroup joins, as one thread-pool job each), and splice (a client's
// stdin moved into the process's stdin pipe inside the kernel).
const include = ['/usr/include/node', `${process.execPath.replace(/\/bin\/node$/, '')}/include/node`].find((d) => existsSync(`${d}/node_api.h`))
for (const name of ['seqpacket', 'peercred', 'procspawn', 'termios', 'fsbatch', 'splice']) {
  const src = `native/${name}.c`
  const out = `dist/${name}.node`
  const newest = Math.max(statSync(src).mtimeMs, statSync('native/napi_common.h').mtimeMs)
  if (existsSync(out) && statSync(out).mtimeMs >= newest) continue
  if (include === undefined) {
    console.error(`build: node_api.h not found (install Node's headers); cannot build ${out}`)
    process.exit(1)
  }
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-shared', '-fPIC', `-I${include}`, '-o', out, src], { stdio: 'inherit' })
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
  // No comments or indentation: a third smaller, and ASCII only, so Node reads it as a one-byte string (a bundle with
  // one non-ASCII character took 4.6 ms to read, an ASCII one 1.6). Names are kept, so stack traces still say where.
  minifyWhitespace: true,
  logLevel: 'warning',
})
renameSync(tmp, 'dist/conex.js')
if (typecheckFailed) {
  console.error('build: type errors (see above); dist/ was emitted anyway')
  process.exit(1)
}
