/**
 * Where a reading session lives between reloads: its state and the conformed volumes of the
 * real scans (synthetic cases are regenerated from their recipe). The browser implementation
 * is IndexedDB (idbStorage.ts); tests use `memoryStorage`. Nothing here leaves the browser.
 */
import type { ConformedVolume } from './conform';
import type { StoredSession } from './session';

export interface ReviewStorage {
  loadSession(): Promise<StoredSession | null>;
  saveSession(s: StoredSession): Promise<void>;
  putVolume(id: string, v: ConformedVolume): Promise<void>;
  getVolume(id: string): Promise<ConformedVolume | null>;
  /** Forget the session and every stored volume. */
  clear(): Promise<void>;
}

/** An in-memory ReviewStorage (structured copies, like IndexedDB) for tests. */
export function memoryStorage(): ReviewStorage & { volumeIds(): string[] } {
  let session: StoredSession | null = null;
  const volumes = new Map<string, ConformedVolume>();
  return {
    loadSession: () => Promise.resolve(session ? structuredClone(session) : null),
    saveSession: (s) => {
      session = structuredClone(s);
      return Promise.resolve();
    },
    putVolume: (id, v) => {
      volumes.set(id, structuredClone(v));
      return Promise.resolve();
    },
    getVolume: (id) => {
      const v = volumes.get(id);
      return Promise.resolve(v ? structuredClone(v) : null);
    },
    clear: () => {
      session = null;
      volumes.clear();
      return Promise.resolve();
    },
    volumeIds: () => [...volumes.keys()],
  };
}
