// podman's libpod API (/libpod/...): what `podman --remote` needs for exec, ps, run -d, rm, inspect and images.
import { libpodExecRoutes } from '../exec'
import { libpodContainerRoutes } from './containers'
import { libpodImageRoutes } from './images'

export const libpodRoutes = [
  ...libpodExecRoutes,
  ...libpodContainerRoutes,
  ...libpodImageRoutes,
]
