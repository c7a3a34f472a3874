/**
 * The profiles known to this instance, fed by sources (a directory of JSON files, a compacted
 * topic). Each source (origin) offers at most one candidate per profile name; the newest candidate
 * wins: by `updatedAt` when both have one, else by `version`, else by arrival order. An update
 * older than what the same origin gave before is ignored. Listeners hear about every change of
 * the winning profile's content, so that connected devices can be set up again without restart.
 */
import { compileProfile, type CompiledProfile } from './compile';
import { parseProfile, type ProfileDefinition } from './schema';

export interface ProfileChange {
  readonly name: string;
  /** The profile now in force; undefined when it was removed. */
  readonly profile?: CompiledProfile;
  /** The profile in force before; undefined when there was none. */
  readonly previous?: CompiledProfile;
}

export type ProfileChangeListener = (change: ProfileChange) => void;

/** The outcome of an update: applied (maybe without changing the winner), or ignored as stale. */
export type PutResult = 'changed' | 'unchanged' | 'stale';

/** Something that feeds a registry: started once, stopped at shutdown. */
export interface ProfileSource {
  /** Resolves once the profiles present at start are loaded. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Candidate {
  readonly origin: string;
  readonly profile: CompiledProfile;
  readonly arrival: number;
}

/** Positive when a's stamps say it is newer than b, negative when older, 0 when they do not tell. */
export function compareStamps(a: ProfileDefinition, b: ProfileDefinition): number {
  if (a.updatedAt !== undefined && b.updatedAt !== undefined && a.updatedAt !== b.updatedAt)
    return a.updatedAt - b.updatedAt;
  if (a.version !== undefined && b.version !== undefined && a.version !== b.version) return a.version - b.version;
  return 0;
}

function newest(candidates: Iterable<Candidate>): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) {
    if (best === undefined) best = c;
    else {
      const byStamp = compareStamps(c.profile.definition, best.profile.definition);
      if (byStamp > 0 || (byStamp === 0 && c.arrival > best.arrival)) best = c;
    }
  }
  return best;
}

export class ProfileRegistry {
  private readonly candidates = new Map<string, Map<string, Candidate>>();
  private readonly winners = new Map<string, CompiledProfile>();
  private listeners: ProfileChangeListener[] = [];
  private arrivals = 0;

  constructor(private readonly onListenerError: (err: unknown, context: string) => void = () => undefined) {}

  get(name: string): CompiledProfile | undefined {
    return this.winners.get(name);
  }

  names(): string[] {
    return [...this.winners.keys()];
  }

  onChange(listener: ProfileChangeListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Validates a document and offers it; throws ProfileError naming the bad fields. */
  putDocument(doc: unknown, origin: string): PutResult {
    return this.put(parseProfile(doc, origin), origin);
  }

  put(definition: ProfileDefinition, origin: string): PutResult {
    let byOrigin = this.candidates.get(definition.name);
    const previous = byOrigin?.get(origin);
    if (previous !== undefined && compareStamps(previous.profile.definition, definition) > 0) return 'stale';
    if (byOrigin === undefined) this.candidates.set(definition.name, (byOrigin = new Map()));
    byOrigin.set(origin, { origin, profile: compileProfile(definition), arrival: ++this.arrivals });
    return this.settle(definition.name) ? 'changed' : 'unchanged';
  }

  /** Withdraws what `origin` offered for `name` (file removed, tombstone). */
  delete(name: string, origin: string): PutResult {
    const byOrigin = this.candidates.get(name);
    if (byOrigin === undefined || !byOrigin.delete(origin)) return 'unchanged';
    if (byOrigin.size === 0) this.candidates.delete(name);
    return this.settle(name) ? 'changed' : 'unchanged';
  }

  /** Recomputes the winner of `name`; true (and listeners told) when its content changed. */
  private settle(name: string): boolean {
    const previous = this.winners.get(name);
    const winner = newest(this.candidates.get(name)?.values() ?? []);
    if (winner === undefined) this.winners.delete(name);
    else this.winners.set(name, winner.profile);
    const profile = winner?.profile;
    if (previous?.fingerprint === profile?.fingerprint) return false;
    const change: ProfileChange = { name, ...(profile ? { profile } : {}), ...(previous ? { previous } : {}) };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.onListenerError(err, `profile change listener for "${name}"`);
      }
    }
    return true;
  }
}
