/** Test helpers shared by the backend client's tests and the UI's fakes (no test runner here). */
import type { JobStatus } from './client';

/** A job as the API answers it (queued, no results), with `over` applied. */
export function fakeJob(over: Partial<JobStatus> = {}): JobStatus {
  const id = over.id ?? 'job-1';
  return {
    id,
    state: 'queued',
    progress: 0,
    message: 'waiting for a worker',
    created_at: '2026-11-23T10:00:00Z',
    started_at: null,
    finished_at: null,
    attempts: 0,
    queue_position: 1,
    request: {
      model_id: 'fake-model',
      conditions: {},
      seed: 0,
      resolution_mm: 1,
      contrasts: ['T1w'],
      count: 1,
    },
    results: [],
    url: `/api/v1/jobs/${id}`,
    events_url: `/api/v1/jobs/${id}/events`,
    ...over,
  };
}

/** A byte stream that delivers `chunks` one read at a time (a streamed response body). */
export function byteStream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(ctl) {
      if (i < chunks.length) ctl.enqueue(enc.encode(chunks[i++]));
      else ctl.close();
    },
  });
}
