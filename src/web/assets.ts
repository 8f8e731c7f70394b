// The files the web console serves, by URL: our page (src/web/static) and xterm.js with its fit addon, straight from
// node_modules (nothing from a CDN). Both are found from the repository root, which is an ancestor of this module
// whether it runs from the bundle (dist/conex.js) or from tsc's output (dist/src/web/assets.js).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface Asset { type: string, body: Buffer }

const FILES: Record<string, { path: string, type: string }> = {
  '/': { path: 'src/web/static/index.html', type: 'text/html; charset=utf-8' },
  '/assets/console.js': { path: 'src/web/static/console.js', type: 'text/javascript; charset=utf-8' },
  '/assets/console.css': { path: 'src/web/static/console.css', type: 'text/css; charset=utf-8' },
  '/assets/xterm.js': { path: 'node_modules/@xterm/xterm/lib/xterm.js', type: 'text/javascript; charset=utf-8' },
  '/assets/xterm.css': { path: 'node_modules/@xterm/xterm/css/xterm.css', type: 'text/css; charset=utf-8' },
  '/assets/addon-fit.js': { path: 'node_modules/@xterm/addon-fit/lib/addon-fit.js', type: 'text/javascript; charset=utf-8' },
}

// The nearest ancestor of `from` holding both the page and xterm.js.
export function findRepoRoot (from = __dirname): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'src/web/static/index.html')) && existsSync(join(d, 'node_modules/@xterm/xterm/lib/xterm.js'))) return d
    if (dirname(d) === d) return undefined
  }
}

export class AssetStore {
  readonly #root: string
  readonly #cache = new Map<string, Asset>()

  constructor (root: string) { this.#root = root }

  // Loads and checks every asset once, so that a broken install fails at start, not on the first visit.
  static open (): AssetStore {
    const root = findRepoRoot()
    if (root === undefined) throw new Error('web console assets not found: expected src/web/static and node_modules/@xterm (run npm ci) above ' + __dirname)
    const s = new AssetStore(root)
    for (const url of Object.keys(FILES)) s.get(url)
    return s
  }

  // The asset for a URL path, or undefined.
  get (url: string): Asset | undefined {
    const f = FILES[url]
    if (f === undefined) return undefined
    let a = this.#cache.get(url)
    if (a === undefined) {
      a = { type: f.type, body: readFileSync(join(this.#root, f.path)) }
      this.#cache.set(url, a)
    }
    return a
  }
}
