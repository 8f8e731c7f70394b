// Loads one of conex's own native addons (native/*.c, compiled by scripts/build.mjs into dist/<name>.node), and
// better-sqlite3's. The bundled CLI (dist/conex.js) and the compiled modules (dist/src/**) sit at different depths, so
// look upwards. Loaded with process.dlopen, not require: require resolves the path (stat calls and a realpath walk)
// before the same dlopen, ~0.6 ms per addon of a CLI command that loads three or four (require.resolve of
// better-sqlite3's file, through node_modules lookups, another ~0.7).
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const loaded = new Map<string, unknown>()

// One load per file and process (a second dlopen of a library that is not an N-API one may fail to register).
function dlopenFile<T> (file: string): T {
  let exports = loaded.get(file)
  if (exports === undefined) {
    const mod = { exports: {} }
    process.dlopen(mod, file)
    exports = mod.exports
    loaded.set(file, exports)
  }
  return exports as T
}

// The first of `rel` under this directory or one, two or three above it that exists.
function findUp (rel: string): string | undefined {
  for (const up of [[], ['..'], ['..', '..'], ['..', '..', '..']]) {
    const file = join(__dirname, ...up, rel)
    if (existsSync(file)) return file
  }
  return undefined
}

export function loadAddon<T> (name: string): T {
  const file = findUp(`${name}.node`)
  if (file === undefined) throw new Error(`conex's native addon ${name}.node could not be loaded (run: node scripts/build.mjs): not found from ${__dirname}`)
  try {
    return dlopenFile<T>(file)
  } catch (err) {
    throw new Error(`conex's native addon ${name}.node could not be loaded (run: node scripts/build.mjs): ${(err as Error).message}`)
  }
}

// better-sqlite3's compiled part. Left to itself the library finds it through the `bindings` package, which walks the
// call stack and probes a dozen directories (2.5 ms of every CLI command here).
const SQLITE_ADDON = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')

export function loadSqliteAddon (): object {
  const file = findUp(SQLITE_ADDON)
  if (file === undefined) throw new Error(`better-sqlite3's compiled addon was not found from ${__dirname} (run: npm ci)`)
  return dlopenFile<object>(file)
}
