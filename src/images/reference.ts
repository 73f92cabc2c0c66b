/**
 * Image references, parsed and normalised the way Docker and containerd do:
 *   busybox                 → docker.io/library/busybox:latest
 *   foo/bar                 → docker.io/foo/bar:latest
 *   localhost:5000/x        → localhost:5000/x:latest   (first component is a host when it has
 *   127.0.0.1:5000/x:tag    → 127.0.0.1:5000/x:tag       a "." or ":", is "localhost", or has capitals)
 *   name@sha256:…           → by digest
 *   name:tag@sha256:…       → by digest; the tag is dropped (containerd's ParseDockerRef does too)
 * Malformed input → INVALID_ARGUMENT saying what is wrong.
 */
import { invalidArgument } from '../util/errors.js';
import { requireDigest } from './digest.js';

export interface ImageReference {
  /** Registry host[:port], e.g. "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const NAME_MAX = 255;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function looksLikeDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

/** Parse and normalise `input`; throws INVALID_ARGUMENT naming the problem. */
export function parseReference(input: string): ImageReference {
  const bad = (why: string) => invalidArgument(`invalid image reference ${JSON.stringify(input)}: ${why}`);
  if (typeof input !== 'string' || input === '') throw bad('empty');
  if (/\s/.test(input)) throw bad('contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    try {
      digest = requireDigest(rest.slice(at + 1), 'digest');
    } catch (err) {
      throw bad((err as Error).message);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`invalid tag ${JSON.stringify(tag)} (allowed: [A-Za-z0-9_.-], at most 128, not starting with "." or "-")`);
  }
  if (rest === '') throw bad('missing repository name');
  const slash = rest.indexOf('/');
  let domain = DOCKER_HUB;
  let path = rest;
  if (slash > 0 && looksLikeDomain(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(`invalid registry host ${JSON.stringify(domain)}`);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (path === '') throw bad('missing repository name');
  if (/^[a-f0-9]{64}$/.test(path) && domain === DOCKER_HUB) {
    throw bad('a 64-character hex string is an image id, not a repository name');
  }
  for (const component of path.split('/')) {
    if (component !== component.toLowerCase()) throw bad('repository name must be lowercase');
    if (!PATH_COMPONENT.test(component)) throw bad(`invalid repository path component ${JSON.stringify(component)}`);
  }
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (domain.length + 1 + path.length > NAME_MAX) throw bad(`repository name longer than ${NAME_MAX} characters`);
  if (digest) return { domain, path, digest };
  return { domain, path, tag: tag ?? 'latest' };
}

/** "docker.io/library/busybox" */
export function repoName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  return `${ref.domain}/${ref.path}`;
}

/** Canonical string: name@digest when pinned by digest, else name:tag. */
export function formatReference(ref: ImageReference): string {
  return ref.digest ? `${repoName(ref)}@${ref.digest}` : `${repoName(ref)}:${ref.tag ?? 'latest'}`;
}

/** Parse, or undefined when `input` is not a valid reference. */
export function tryParseReference(input: string): ImageReference | undefined {
  try {
    return parseReference(input);
  } catch {
    return undefined;
  }
}
