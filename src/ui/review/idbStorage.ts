/**
 * ReviewStorage on IndexedDB (database "brainsynth-review": object stores "session", one
 * record, and "volumes", keyed by case id). Plain IndexedDB calls wrapped in promises; the
 * e2e (e2e/review.spec.ts) exercises it across a reload.
 */
import type { ConformedVolume } from './conform';
import type { StoredSession } from './session';
import type { ReviewStorage } from './storage';

const DB = 'brainsynth-review';
const SESSION = 'session';
const VOLUMES = 'volumes';
const KEY = 'current';

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function open(factory: IDBFactory): Promise<IDBDatabase> {
  const req = factory.open(DB, 1);
  req.onupgradeneeded = () => {
    req.result.createObjectStore(SESSION);
    req.result.createObjectStore(VOLUMES);
  };
  return done(req);
}

/** `factory` defaults to the page's `indexedDB`, looked up on first use (not at creation, so a
 * page or test without IndexedDB only fails when a session is actually stored, with a reason). */
export function idbStorage(factory?: IDBFactory): ReviewStorage {
  let db: Promise<IDBDatabase> | null = null;
  const opened = () => {
    const f = factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!f)
      return Promise.reject(new Error('this browser has no IndexedDB: the session cannot be kept'));
    return open(f);
  };
  const store = async (name: string, mode: IDBTransactionMode) =>
    (await (db ??= opened())).transaction(name, mode).objectStore(name);
  return {
    loadSession: async () =>
      ((await done((await store(SESSION, 'readonly')).get(KEY))) as StoredSession | undefined) ??
      null,
    saveSession: async (s) => {
      await done((await store(SESSION, 'readwrite')).put(s, KEY));
    },
    putVolume: async (id, v) => {
      await done((await store(VOLUMES, 'readwrite')).put(v, id));
    },
    getVolume: async (id) =>
      ((await done((await store(VOLUMES, 'readonly')).get(id))) as ConformedVolume | undefined) ??
      null,
    clear: async () => {
      await done((await store(SESSION, 'readwrite')).clear());
      await done((await store(VOLUMES, 'readwrite')).clear());
    },
  };
}
