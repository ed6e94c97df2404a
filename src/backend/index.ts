/**
 * Public face of the full-size backend's client (HTTP + SSE; no DOM, no React, no engine).
 * Wire types are generated from the server's OpenAPI document (`npm run gen:api`).
 */
export { BackendClient, TERMINAL_STATES } from './client';
export type {
  BackendClientOptions,
  BackendHealth,
  DatasetState,
  DatasetStatus,
  JobParameters,
  JobRequest,
  JobState,
  JobStatus,
  ResultFile,
  SubmitJobInput,
} from './client';
export { BackendError, formatDetail, isBackendError, Transport } from './transport';
export type { BackendErrorKind, FetchFn, TransportOptions } from './transport';
export { readSse } from './sse';
export type { SseEvent } from './sse';
export type { components, operations, paths } from './api.gen';
