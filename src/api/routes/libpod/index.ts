// podman's libpod API (/libpod/...): what `podman --remote` needs for exec, ps, run -d, rm, inspect and images.
import { libpodExecRoutes } from '../exec'
import { libpodContainerRoutes } from './containers'
import { containerRoutes } from '../containers'
import { libpodImageRoutes } from './images'
import { libpodEventRoutes } from './events'
import { logsRoute, attachRoute } from '../container-io'

export const libpodRoutes = [
  ...libpodExecRoutes,
  ...libpodContainerRoutes,
  ...libpodImageRoutes,
  ...libpodEventRoutes,
  { ...logsRoute, path: '/libpod/containers/{id}/logs' },
  { ...attachRoute, path: '/libpod/containers/{id}/attach' },
  ...containerRoutes.filter((r) => r.path === '/containers/{id}/resize' || r.path === '/containers/{id}/top' || r.path === '/containers/{id}/pause' || r.path === '/containers/{id}/unpause' || r.path === '/containers/{id}/restart').map((r) => ({ ...r, path: `/libpod${r.path}` })),
]
