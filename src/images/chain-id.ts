/**
 * OCI image-spec chain ids: chainID(L0) = diffID(L0);
 * chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). A chain id names a snapshot: the
 * filesystem after applying layers 0..n, so images that share a layer prefix share snapshots.
 */
import { sha256Of } from './digest.js';

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256Of(`${out[out.length - 1]} ${d}`));
  return out;
}
