// Image layers on disk: `<root>/layers/<id>/diff` holds one layer's files, read-only lower dirs for overlayfs.
// A layer is written into a temporary directory and renamed into place, so a crash never leaves half a layer.
import { mkdirSync, renameSync, rmSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const layersDir = (root: string): string => join(root, 'layers')
export const layerDiff = (root: string, id: string): string => join(layersDir(root), id, 'diff')

// Creates a staging directory for a new layer; `commit` moves it to its final id.
export function stageLayer (root: string): { dir: string, commit: (id: string) => void, abort: () => void } {
  mkdirSync(join(root, 'tmp'), { recursive: true })
  const stage = mkdtempSync(join(root, 'tmp', 'layer-'))
  const dir = join(stage, 'diff')
  mkdirSync(dir)
  return {
    dir,
    commit: (id: string) => {
      const dest = join(layersDir(root), id)
      if (existsSync(dest)) { rmSync(stage, { recursive: true, force: true }); return }
      mkdirSync(layersDir(root), { recursive: true })
      try {
        renameSync(stage, dest)
      } catch (err) {
        // Another process committed the same (content-addressed) layer between the check and the rename: its copy
        // is as good as ours (8 parallel first `run busybox` hit this under load).
        const code = (err as NodeJS.ErrnoException).code
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(dest)) throw err
        rmSync(stage, { recursive: true, force: true })
      }
    },
    abort: () => rmSync(stage, { recursive: true, force: true }),
  }
}

export function removeLayer (root: string, id: string): void {
  rmSync(join(layersDir(root), id), { recursive: true, force: true })
}

// Removes staging directories left by a crashed import or build: only those untouched for `olderThanMs`, so a
// build in progress in another process keeps its own.
export function cleanStaging (root: string, olderThanMs = 3_600_000): void {
  const tmp = join(root, 'tmp')
  let entries: string[]
  try { entries = readdirSync(tmp) } catch { return }
  const limit = Date.now() - olderThanMs
  for (const e of entries) {
    if (!e.startsWith('layer-')) continue
    try { if (statSync(join(tmp, e)).mtimeMs < limit) rmSync(join(tmp, e), { recursive: true, force: true }) } catch { /* gone already */ }
  }
}
