// /_ping, /version and /info, for the Docker API and (under /libpod) for podman remote, which reads
// Libpod-API-Version from the ping to decide whether it can talk to us.
import { route, type Call } from '../route'
import { dockerInfo, dockerVersion, libpodInfo } from '../system-shapes'

// GET and HEAD /_ping: "OK" with the version headers every reply carries, uncached.
async function ping (c: Call): Promise<void> {
  const body = c.x.method === 'HEAD' ? undefined : 'OK'
  c.x.send(200, body, 'text/plain; charset=utf-8', { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', Swarm: 'inactive', 'Libpod-Buildah-Version': '1.33.0' })
}

export const systemRoutes = [
  route({ method: 'GET', path: '/_ping', handler: ping }),
  route({ method: 'HEAD', path: '/_ping', handler: ping }),
  route({ method: 'GET', path: '/libpod/_ping', handler: ping }),
  route({ method: 'HEAD', path: '/libpod/_ping', handler: ping }),
  route({ method: 'GET', path: '/version', handler: async (c) => { c.x.json(200, dockerVersion(await c.engine.info(), { libpod: false })) } }),
  route({ method: 'GET', path: '/libpod/version', handler: async (c) => { c.x.json(200, dockerVersion(await c.engine.info(), { libpod: true })) } }),
  route({ method: 'GET', path: '/info', handler: async (c) => { c.x.json(200, dockerInfo(await c.engine.info())) } }),
  route({ method: 'GET', path: '/libpod/info', handler: async (c) => { c.x.json(200, libpodInfo(await c.engine.info())) } }),
]
