// Loads one of conex's own native addons (native/*.c, compiled by scripts/build.mjs into dist/<name>.node). The
// bundled CLI (dist/conex.js) and the compiled modules (dist/src/**) sit at different depths, so look upwards.
import { join } from 'node:path'

export function loadAddon<T> (name: string): T {
  let lastErr: unknown
  for (const up of [[], ['..', '..'], ['..', '..', '..']]) {
    try { return require(join(__dirname, ...up, `${name}.node`)) as T } catch (err) { lastErr = err }
  }
  throw new Error(`conex's native addon ${name}.node could not be loaded (run: node scripts/build.mjs): ${(lastErr as Error).message}`)
}
