// The built-in image `localhost/busybox:latest`, made from Debian's busybox-static so the main job works offline:
// /bin/busybox, a link per applet, /etc/passwd and /etc/group (root, daemon, nobody and a few more), empty mount
// points. Its id is the sha256 of its config, so every store builds the same image.
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { stageLayer } from './layers'
import type { ImageConfig } from '../store/images'
import { EngineError } from '../errors'

export const BUILTIN_NAME = 'localhost/busybox:latest'
const BUSYBOX = '/bin/busybox'

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
guest:x:405:100:guest:/home/guest:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
`
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:daemon
tty:x:5:
disk:x:6:
wheel:x:10:root
www-data:x:33:
users:x:100:guest
nogroup:x:65533:
nobody:x:65534:
`

export const BUILTIN_CONFIG: ImageConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
  WorkingDir: '/',
}

// Where the applet list comes from: busybox itself (`busybox --list-full` gives paths like usr/bin/env).
function applets (): string[] {
  if (!existsSync(BUSYBOX)) throw new EngineError('NO_SUCH_IMAGE', `cannot build the built-in busybox image: ${BUSYBOX} is missing (apt-get install busybox-static)`)
  return execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '')
}

export interface BuiltLayer { layerId: string, imageId: string, config: ImageConfig, size: number }

// Builds the image's single layer under `root`; returns ids for the image store.
export function buildBusyboxLayer (root: string): BuiltLayer {
  const list = applets()
  const layerId = createHash('sha256').update('conex-builtin-busybox\n' + list.join('\n')).digest('hex')
  const imageId = createHash('sha256').update(JSON.stringify({ config: BUILTIN_CONFIG, layers: [layerId] })).digest('hex')
  const stage = stageLayer(root)
  const d = stage.dir
  try {
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var', 'run', 'mnt']) {
      mkdirSync(join(d, dir), { recursive: true })
    }
    chmodSync(join(d, 'tmp'), 0o1777)
    chmodSync(join(d, 'root'), 0o700)
    copyFileSync(BUSYBOX, join(d, 'bin/busybox'))
    chmodSync(join(d, 'bin/busybox'), 0o755)
    for (const path of list) {
      if (path === 'bin/busybox') continue
      try { symlinkSync('/bin/busybox', join(d, path)) } catch { /* duplicate applet */ }
    }
    writeFileSync(join(d, 'etc/passwd'), PASSWD)
    writeFileSync(join(d, 'etc/group'), GROUP)
    writeFileSync(join(d, 'etc/hostname'), 'busybox\n')
    writeFileSync(join(d, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n')
    stage.commit(layerId)
  } catch (err) {
    stage.abort()
    throw err
  }
  return { layerId, imageId, config: BUILTIN_CONFIG, size: 2_000_000 }
}
