// Image layers on disk: `<root>/layers/<id>/diff` holds one layer's files, read-only lower dirs for overlayfs.
// A layer is written into a temporary directory and renamed into place, so a crash never leaves half a layer.
import { mkdirSync, renameSync, rmSync, existsSync, mkdtempSync, readdirSync } from 'node:fs'
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
      renameSync(stage, dest)
    },
    abort: () => rmSync(stage, { recursive: true, force: true }),
  }
}

export function removeLayer (root: string, id: string): void {
  rmSync(join(layersDir(root), id), { recursive: true, force: true })
}

// Removes staging directories left by a crashed import.
export function cleanStaging (root: string): void {
  const tmp = join(root, 'tmp')
  if (!existsSync(tmp)) return
  for (const e of readdirSync(tmp)) if (e.startsWith('layer-')) rmSync(join(tmp, e), { recursive: true, force: true })
}
