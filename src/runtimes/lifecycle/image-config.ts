import type { ImageConfig as StoredImageConfig } from '../../images/index.js';
import type { ImageConfig } from '../oci/inputs.js';

/** The image store's config (OCI JSON casing) → the spec builder's input. */
export function toOciImageConfig(c: StoredImageConfig): ImageConfig {
  return {
    entrypoint: c.Entrypoint,
    cmd: c.Cmd,
    env: c.Env,
    workingDir: c.WorkingDir,
    user: c.User,
    stopSignal: c.StopSignal,
    labels: c.Labels,
  };
}
