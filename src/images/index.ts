/** Public API of the image subsystem (see service.ts). */
export { ImageService, type ImageInfo, type ImageServiceOptions, type PullOptions, type CompleteOptions, type FsUsage, type GcResult } from './service.js';
export { hasHostLayers, type ImageRecord, type LayerRecord } from './store/image-record.js';
export type { RemoveOutcome } from './store/image-index.js';
export type { PullProgress, PullPhase } from './pull/progress.js';
export type { AuthConfig } from './registry/auth/credentials.js';
export type { RegistryConfig, RegistryAuthEntry } from './registry/config.js';
export type { ImageConfig } from './manifest.js';
export type { Platform } from './platform.js';
export { hostPlatform, formatPlatform } from './platform.js';
export { parseReference, formatReference, type ImageReference } from './reference.js';
export { imageUser, type ImageUser } from './user.js';
export { chainIds } from './chain-id.js';
