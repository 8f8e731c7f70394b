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
const fs = require('fs')
const path = require('path')
const vm = require('vm')
const Module = require('module')

const file = path.join(__dirname, '..', 'dist', 'conex.js')
const cacheFile = file + '.cache'
let cachedData
try { cachedData = fs.readFileSync(cacheFile) } catch { /* first run */ }
const source = fs.readFileSync(file, 'utf8')
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
      fs.writeFileSync(tmp, script.createCachedData())
      fs.renameSync(tmp, cacheFile)
    } catch { /* a read-only install still works, only slower */ }
  })
}
fn.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file))
