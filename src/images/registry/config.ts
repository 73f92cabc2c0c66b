/** The registry settings berthd's config hands to the image service (see src/daemon/config.ts). */
export interface RegistryAuthEntry {
  username?: string;
  password?: string;
  /** base64("user:password") */
  auth?: string;
  identitytoken?: string;
}

export interface RegistryConfig {
  /** host → endpoints tried in order before the host itself, e.g. {"docker.io": ["http://127.0.0.1:5000"]}; "*" applies to every host without its own entry. */
  mirrors: Record<string, string[]>;
  /** host[:port] where plain http (and unverified TLS) is allowed. */
  insecure: string[];
  auths: Record<string, RegistryAuthEntry>;
  /** Per-request timeout (manifests, tokens, response headers) and idle timeout of blob bodies; default 30. */
  requestTimeoutSeconds?: number;
  /** Layers downloaded in parallel per pull; default 3. */
  maxConcurrentDownloads?: number;
}

export const emptyRegistryConfig = (): RegistryConfig => ({ mirrors: {}, insecure: [], auths: {} });
