/**
 * The "Objects and Object Instances" of a Register or Update payload (LwM2M-Core 1.1 §6.2.1 and
 * §6.2.2; LwM2M 1.0 TS §5.3.1): `</>;rt="oma.lwm2m";ct=110, </1/0>, </3>;ver=1.1, </3/0>`.
 *
 * - Root link: the link whose rt includes "oma.lwm2m" gives the alternate path under which the
 *   objects live (LwM2M-Transport 1.1 "Alternate Path"; LwM2M 1.0 TS §8.2.2); it MUST NOT contain a
 *   numerical segment. Without one the root is "/". Its `ct` lists the content formats the client
 *   supports (LwM2M-Core 1.1 §6.2.1), either `ct=110` or `ct="60 110"` (RFC 7252 §7.2.1).
 * - Object links: /{Object ID} or /{Object ID}/{Instance ID} under the root. `ver` gives the object
 *   version (LwM2M-Core 1.1 §7.2.2); absent → undefined (the device implies 1.0).
 * - Other parameters are ignored (LwM2M-Core 1.1 §6.2.1); any other link is an error.
 * - Interop: links without the alternate-path prefix are accepted too (Wakaama announces
 *   `</alt>;rt="oma.lwm2m"` with unprefixed object links); no ambiguity, as the prefix is not numeric.
 */
import { LinkFormatError } from '../common/errors';
import { parseLinkFormat, type Link } from './link-format';
import { canonicalObjectVersion } from './model/object-version';
import { MAX_ID } from './path';

export interface AnnouncedObject {
  /** Object version from `ver`, canonical "major.minor"; undefined when the device gave none. */
  readonly version?: string;
  /** Announced instance ids, ascending; empty when only the object is listed. */
  readonly instances: number[];
}

export interface RegistrationObjectLinks {
  /** "/" or the alternate path, without trailing slash ("/lwm2m"). */
  readonly rootPath: string;
  /** Content formats from `ct` on the root link, in the order given. */
  readonly supportedContentFormats?: number[];
  readonly objects: Map<number, AnnouncedObject>;
}

const LWM2M_RT = 'oma.lwm2m';
const OBJECT_PATH = /^\/(\d{1,5})(?:\/(\d{1,5}))?\/?$/;

function isLwM2mRoot(link: Link): boolean {
  const rt = link.params['rt'];
  return typeof rt === 'string' && rt.split(/\s+/).includes(LWM2M_RT);
}

function normaliseRoot(uri: string): string {
  if (!uri.startsWith('/') || /[?#]/.test(uri)) {
    throw new LinkFormatError(`alternate path <${uri}> must be an absolute path without query or fragment`);
  }
  const trimmed = uri.length > 1 && uri.endsWith('/') ? uri.slice(0, -1) : uri;
  if (trimmed === '/') return trimmed;
  for (const seg of trimmed.slice(1).split('/')) {
    if (seg === '') throw new LinkFormatError(`alternate path <${uri}> has an empty segment`);
    if (/^\d+$/.test(seg)) throw new LinkFormatError(`alternate path <${uri}> must not contain a numerical segment`);
  }
  return trimmed;
}

function parseContentFormats(value: string | true, uri: string): number[] {
  const items =
    value === true
      ? []
      : value
          .trim()
          .split(/\s+/)
          .filter((s) => s !== '');
  const formats: number[] = [];
  for (const item of items) {
    const n = /^\d{1,5}$/.test(item) ? Number(item) : NaN;
    if (!(n <= 65535)) throw new LinkFormatError(`invalid ct "${String(value)}" on root link <${uri}>`);
    if (!formats.includes(n)) formats.push(n);
  }
  if (formats.length === 0) throw new LinkFormatError(`empty ct on root link <${uri}>`);
  return formats;
}

function findRoot(links: readonly Link[]): { rootPath: string; ct?: number[] } {
  let rootPath: string | undefined;
  let ctLink: Link | undefined;
  for (const link of links) {
    if (!isLwM2mRoot(link)) continue;
    const path = normaliseRoot(link.uri);
    if (rootPath !== undefined && rootPath !== path) {
      throw new LinkFormatError(`two alternate paths announced: <${rootPath}> and <${link.uri}>`);
    }
    rootPath = path;
    if (ctLink === undefined && link.params['ct'] !== undefined) ctLink = link;
  }
  // LwM2M 1.1 clients may give `</>;ct=...` without rt (LwM2M-Core 1.1 §6.2.1 example).
  ctLink ??= links.find((l) => l.uri === '/' && l.params['ct'] !== undefined);
  const ct = ctLink?.params['ct'];
  return ct === undefined || ctLink === undefined
    ? { rootPath: rootPath ?? '/' }
    : { rootPath: rootPath ?? '/', ct: parseContentFormats(ct, ctLink.uri) };
}

function parseId(text: string, uri: string): number {
  const n = Number(text);
  if (n > MAX_ID) throw new LinkFormatError(`link <${uri}>: id ${n} exceeds ${MAX_ID}`);
  return n;
}

/** Interprets already-parsed links; see the file header for the rules. */
export function objectLinksFromLinks(links: readonly Link[]): RegistrationObjectLinks {
  const { rootPath, ct } = findRoot(links);
  const prefix = rootPath === '/' ? '' : rootPath;
  const versions = new Map<number, string>();
  const instances = new Map<number, Set<number>>();

  for (const link of links) {
    const uri = link.uri;
    if (uri === '/' || uri === rootPath || (prefix !== '' && uri === `${prefix}/`) || isLwM2mRoot(link)) continue;
    const relative = prefix !== '' && uri.startsWith(`${prefix}/`) ? uri.slice(prefix.length) : uri;
    const m = OBJECT_PATH.exec(relative);
    if (!m || m[1] === undefined) {
      throw new LinkFormatError(`link <${uri}> is neither the LwM2M root nor an object or object instance path`);
    }
    const objectId = parseId(m[1], uri);
    let set = instances.get(objectId);
    if (!set) instances.set(objectId, (set = new Set()));
    if (m[2] !== undefined) set.add(parseId(m[2], uri));

    const ver = link.params['ver'];
    if (ver === undefined) continue;
    const version = ver === true ? undefined : canonicalObjectVersion(ver);
    if (version === undefined)
      throw new LinkFormatError(`link <${uri}>: invalid ver "${String(ver)}" (expected major.minor)`);
    const known = versions.get(objectId);
    if (known !== undefined && known !== version) {
      throw new LinkFormatError(`object ${objectId} announced with two versions: ${known} and ${version}`);
    }
    versions.set(objectId, version);
  }

  const objects = new Map<number, AnnouncedObject>();
  for (const [objectId, set] of instances) {
    const ids = [...set].sort((a, b) => a - b);
    const version = versions.get(objectId);
    objects.set(objectId, version === undefined ? { instances: ids } : { version, instances: ids });
  }
  return ct === undefined ? { rootPath, objects } : { rootPath, supportedContentFormats: ct, objects };
}

/** Parses a Register/Update payload (application/link-format). Throws LinkFormatError. */
export function parseObjectLinks(text: string): RegistrationObjectLinks {
  return objectLinksFromLinks(parseLinkFormat(text));
}
