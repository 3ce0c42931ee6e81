/**
 * Hugging Face Hub model ids: `hf:owner/name[@revision]`, and the URL of a file in a repository:
 * `${endpoint}/${owner}/${name}/resolve/${revision}/${path}`.
 */

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubRepo {
  owner: string;
  name: string;
  /** Branch, tag or commit; undefined means `main`. */
  revision?: string;
}

const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;
const REVISION = /^[A-Za-z0-9._/-]{1,200}$/;

function bad(id: string, why: string): never {
  throw new Error(`'${id}' is not a Hugging Face model id: ${why}. Write it as hf:owner/name or hf:owner/name@revision, e.g. hf:HuggingFaceTB/SmolLM2-135M`);
}

export function parseHubId(id: string): HubRepo {
  if (!id.startsWith('hf:')) bad(id, 'it must start with "hf:"');
  const body = id.slice(3);
  const at = body.indexOf('@');
  const repo = at === -1 ? body : body.slice(0, at);
  const revision = at === -1 ? undefined : body.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2) bad(id, 'it needs exactly one "/" between owner and name');
  const [owner, name] = parts;
  for (const [label, seg] of [['owner', owner], ['name', name]] as const) {
    if (!SEGMENT.test(seg) || seg.includes('--') || seg.includes('..')) {
      bad(id, `the ${label} '${seg}' must be 1-96 letters, digits, '-', '_' or '.', not starting or ending with '-' or '.', without '--' or '..'`);
    }
  }
  if (revision !== undefined) {
    if (!REVISION.test(revision) || revision.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      bad(id, `the revision '${revision}' must be a branch, tag or commit (letters, digits, '.', '_', '-', '/')`);
    }
  }
  return revision === undefined ? { owner, name } : { owner, name, revision };
}

export function repoLabel(repo: HubRepo): string {
  return `${repo.owner}/${repo.name}${repo.revision ? `@${repo.revision}` : ''}`;
}

/** A file path inside a repository: relative, '/'-separated, no '.' or '..' segments. */
export function checkRepoPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`'${path}' is not a file path inside a repository (use a relative path such as config.json or onnx/model.onnx)`);
  }
}

export function resolveUrl(repo: HubRepo, path: string, endpoint = DEFAULT_ENDPOINT): string {
  checkRepoPath(path);
  const base = endpoint.replace(/\/+$/, '');
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `${base}/${repo.owner}/${repo.name}/resolve/${encodeURIComponent(repo.revision ?? 'main')}/${encodedPath}`;
}

/** The cache key of a file: `owner/name@revision/path`. */
export function cacheKey(repo: HubRepo, path: string): string {
  return `${repo.owner}/${repo.name}@${repo.revision ?? 'main'}/${path}`;
}
