/**
 * The slice of the backend client (src/backend) that the UI uses, as an interface:
 * the app receives a factory (the real one wraps BackendClient; unit tests pass fakes).
 */
import {
  BackendClient,
  type BackendHealth,
  type DatasetStatus,
  type JobStatus,
  type SubmitJobInput,
} from '../backend';

export interface BackendClientLike {
  readonly baseUrl: string;
  health(signal?: AbortSignal): Promise<BackendHealth>;
  submitJob(input: SubmitJobInput, signal?: AbortSignal): Promise<JobStatus>;
  watchJob(
    id: string,
    onProgress: (job: JobStatus) => void,
    signal?: AbortSignal,
  ): Promise<JobStatus>;
  downloadFile(job: JobStatus, name: string, signal?: AbortSignal): Promise<Uint8Array>;
  cancelJob(id: string, signal?: AbortSignal): Promise<JobStatus>;
  submitDataset(spec: unknown, signal?: AbortSignal): Promise<DatasetStatus>;
  datasetStatus(id: string, signal?: AbortSignal): Promise<DatasetStatus>;
  cancelDataset(id: string, signal?: AbortSignal): Promise<DatasetStatus>;
}

export type BackendFactory = (baseUrl: string) => BackendClientLike;

export const realBackend: BackendFactory = (baseUrl) => new BackendClient({ baseUrl });
