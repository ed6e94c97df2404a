/**
 * Ordering a dataset from the backend (docs/DATASETS.md): parse the spec the user typed,
 * POST it, then follow the dataset by polling its status until it ends. The server validates
 * the spec (every reason in a 422) and checks the disk (507); this side only refuses text that
 * is not a JSON object, with the parser's reason. State lives in the dataset store.
 */
import { TERMINAL_STATES, formatDetail, isBackendError, type DatasetStatus } from '../backend';
import type { BackendClientLike } from './backendApi';
import { createDatasetStore, isFollowing, type DatasetStore } from './stores/datasetStore';

export interface DatasetOrderOptions {
  /** Polling period while the dataset runs (ms). Default 2000. */
  pollMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

function reason(err: unknown): string {
  if (isBackendError(err)) {
    if (err.kind === 'absent')
      return `no backend answers (${err.message}); start one with npm run backend`;
    if (err.kind === 'http' && err.status === 422)
      return `the spec was refused: ${formatDetail(err.detail)}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export class DatasetOrder {
  readonly store: DatasetStore = createDatasetStore();
  private abort: AbortController | null = null;
  private readonly pollMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(
    private readonly client: BackendClientLike | null,
    opts: DatasetOrderOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 2000;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  setSpecText(text: string): void {
    this.store.setState({ specText: text });
  }

  /** Parse and submit the spec, then follow the dataset to its end. */
  async submit(): Promise<void> {
    const s = this.store.getState();
    if (isFollowing(s.phase)) return;
    if (!this.client) {
      this.store.setState({ phase: 'failed', error: 'this build has no backend client' });
      return;
    }
    let spec: unknown;
    try {
      spec = JSON.parse(s.specText);
    } catch (err) {
      this.store.setState({
        phase: 'failed',
        error: `the spec is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      });
      return;
    }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      this.store.setState({ phase: 'failed', error: 'the spec must be a JSON object' });
      return;
    }
    const ctl = new AbortController();
    this.abort = ctl;
    this.store.setState({ phase: 'submitting', status: null, error: null });
    try {
      let status = await this.client.submitDataset(spec, ctl.signal);
      this.store.setState({ phase: 'following', status });
      while (!TERMINAL_STATES.includes(status.state)) {
        await this.sleep(this.pollMs, ctl.signal);
        if (ctl.signal.aborted) return;
        status = await this.client.datasetStatus(status.id, ctl.signal);
        this.store.setState({ status });
      }
      this.finish(status);
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.store.setState({ phase: 'failed', error: reason(err) });
    } finally {
      if (this.abort === ctl) this.abort = null;
    }
  }

  /** Stop following and ask the server to stop the dataset (the files written so far stay). */
  async cancel(): Promise<void> {
    const { status } = this.store.getState();
    this.abort?.abort();
    this.abort = null;
    if (!this.client || !status) {
      this.store.setState({ phase: 'cancelled' });
      return;
    }
    try {
      this.finish(await this.client.cancelDataset(status.id));
    } catch (err) {
      this.store.setState({ phase: 'failed', error: reason(err) });
    }
  }

  private finish(status: DatasetStatus): void {
    const phase =
      status.state === 'succeeded' ? 'done' : status.state === 'cancelled' ? 'cancelled' : 'failed';
    this.store.setState({
      status,
      phase,
      error: phase === 'failed' ? status.message || 'the dataset failed' : null,
    });
  }

  dispose(): void {
    this.abort?.abort();
  }
}
