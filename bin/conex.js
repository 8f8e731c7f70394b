'use strict'
// Run by bin/conex (a shell launcher). It set NODE_EXTRA_CA_CERTS aside so Node would not parse a CA bundle conex
// never uses; give it back, so conmon, the runtime and commands in containers see the environment unchanged.
if (process.env.CONEX_SAVED_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.CONEX_SAVED_NODE_EXTRA_CA_CERTS
  delete process.env.CONEX_SAVED_NODE_EXTRA_CA_CERTS
}
// Starts the bundled CLI (dist/conex.js) through V8's code cache: the first run saves the compiled code beside the
// bundle, later runs skip parsing and compiling it (Node 20 has no built-in module compile cache). A stale or
// foreign cache is rejected by V8 (source hash, V8 version and flags are checked) and rewritten.
// The cache holds the functions the run that wrote it had compiled, so the commands that run often (and conmon's
// exit command, `container cleanup`) each get their own: `conex exec` with a cache written by `conex --version`
// compiled its own code every time (measured: 188 → 173 ms per `conex exec true`).
const fs = require('fs')
const path = require('path')
const vm = require('vm')
const Module = require('module')

const file = path.join(__dirname, '..', 'dist', 'conex.js')
const OWN_CACHE = ['exec', 'run', 'start', 'stop', 'rm', 'ps', 'inspect', 'logs', 'create', 'container', 'system']
const WITH_VALUE = ['--root', '--runroot', '--runtime', '--config', '--log-level']
function commandName (argv) {
  for (let i = 0; i < argv.length; i++) {
    if (WITH_VALUE.includes(argv[i])) { i++; continue }
    if (!argv[i].startsWith('-')) return OWN_CACHE.includes(argv[i]) ? argv[i] : 'other'
  }
  return 'other'
}
const cacheFile = `${file}.${commandName(process.argv.slice(2))}.cache`
// V8 checks a cache against the source's length only: a rebuilt bundle of the same length (it happened: moving a
// block of code between modules kept it to the byte) would run the old bundle's compiled functions against the new
// source. So each cache starts with a line naming the bundle it was made from (its size and modification time, new at
// every build), and a cache of another bundle is not used.
const fd = fs.openSync(file, 'r')
const st = fs.fstatSync(fd)
const stamp = Buffer.from(`conex-code-cache ${st.size} ${Math.floor(st.mtimeMs)}\n`)
const source = fs.readFileSync(fd, 'utf8')
fs.closeSync(fd)
let cachedData
try {
  const saved = fs.readFileSync(cacheFile)
  if (saved.length > stamp.length && saved.subarray(0, stamp.length).equals(stamp)) cachedData = saved.subarray(stamp.length)
} catch { /* first run */ }
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData })
const mod = new Module(file, module)
mod.filename = file
mod.paths = Module._nodeModulePaths(path.dirname(file))
const fn = script.runInThisContext()
if (cachedData === undefined || script.cachedDataRejected) {
  // Saved at exit, when the functions this command used have been compiled too.
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`
      fs.writeFileSync(tmp, Buffer.concat([stamp, script.createCachedData()]))
      fs.renameSync(tmp, cacheFile)
    } catch { /* a read-only install still works, only slower */ }
  })
}
// Node's heavier built-in modules are handed to the bundle as stand-ins that load the real module on first use.
// The bundle reads imports as properties at the call (`import_node_crypto.createHash(...)`), so a command that never
// calls into a module never loads it: each costs 2-7 ms of compiling Node's own internals per command (measured:
// crypto 6.7, http 6.9, child_process 5.8, net 3.7, zlib 3.6, fs/promises 2.3), and `conex exec` needs few of them.
const realRequire = Module.createRequire(file)
const LAZY = new Set(['crypto', 'child_process', 'http', 'https', 'net', 'tls', 'tty', 'zlib', 'fs/promises', 'stream', 'os',
  'url', 'querystring', 'string_decoder'])
function lazyBuiltin (id) {
  let real
  const load = () => (real ??= realRequire(id))
  return new Proxy({}, {
    get: (_, key) => load()[key],
    set: (_, key, value) => { load()[key] = value; return true },
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key)
      return d === undefined ? undefined : { ...d, configurable: true }
    },
  })
}
const lazies = new Map()
function bundleRequire (id) {
  const name = id.startsWith('node:') ? id.slice(5) : id
  if (!LAZY.has(name)) return realRequire(id)
  let m = lazies.get(name)
  if (m === undefined) lazies.set(name, m = lazyBuiltin(name))
  return m
}
Object.assign(bundleRequire, realRequire) // resolve, main, cache, extensions
fn.call(mod.exports, mod.exports, bundleRequire, mod, file, path.dirname(file))
