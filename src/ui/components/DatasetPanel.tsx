import { useStore } from 'zustand';
import { useBackend, useController } from '../context';
import { isFollowing } from '../stores/datasetStore';

function eta(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 90) return ` · about ${Math.round(seconds)} s left`;
  return ` · about ${Math.round(seconds / 60)} min left`;
}

/**
 * "Dataset (backend)": order a labelled dataset from a spec (docs/DATASETS.md) and follow it
 * — subjects done, rate, time left, then its QA report. The logic is in datasetOrder.ts.
 */
export function DatasetPanel() {
  const order = useController().datasets;
  const url = useBackend((s) => s.url);
  const specText = useStore(order.store, (s) => s.specText);
  const phase = useStore(order.store, (s) => s.phase);
  const status = useStore(order.store, (s) => s.status);
  const error = useStore(order.store, (s) => s.error);
  const busy = isFollowing(phase);
  const pct = status ? Math.round(status.progress * 100) : 0;

  return (
    <details className="dataset">
      <summary>Order a dataset</summary>
      <p className="muted">
        Many subjects to a spec, as a BIDS dataset with a QA report, made by the backend at {url}{' '}
        (docs/DATASETS.md).
      </p>
      <label htmlFor="dataset-spec">Dataset spec (JSON)</label>
      <textarea
        id="dataset-spec"
        rows={10}
        cols={40}
        spellCheck={false}
        value={specText}
        disabled={busy}
        onChange={(e) => order.setSpecText(e.target.value)}
      />
      <div className="row">
        <button type="button" disabled={busy} onClick={() => void order.submit()}>
          Order dataset
        </button>
        {busy && status && (
          <button type="button" onClick={() => void order.cancel()}>
            Stop
          </button>
        )}
      </div>
      {status && (
        <p data-testid="dataset-status" aria-live="polite">
          Dataset {status.id}: <strong>{status.state}</strong> · {status.done} of {status.count}{' '}
          subjects ({pct} %)
          {status.rate_per_h !== null && ` · ${Math.round(status.rate_per_h)} subjects/h`}
          {eta(status.eta_s)}
          {busy && <progress max={100} value={pct} aria-label="Dataset progress" />}
        </p>
      )}
      {phase === 'done' && status?.qa_report_url && (
        <p>
          <a href={new URL(status.qa_report_url, url).href} target="_blank" rel="noreferrer">
            QA report
          </a>
        </p>
      )}
      {error && (
        <p role="alert" className="error" data-testid="dataset-error">
          {error}
        </p>
      )}
    </details>
  );
}
