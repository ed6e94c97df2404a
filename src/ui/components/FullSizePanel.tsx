import { Fragment } from 'react';
import { useConditions, useController, useBackend, useEngine } from '../context';
import { START_HINT } from '../fullSize';
import { conditionValues } from '../schema';
import { isActive } from '../stores/backendStore';

/** The result's facts, each shown whole (a fact never breaks across lines; the row wraps between them). */
export function resultFacts(
  c: { age?: unknown; sex?: unknown; pathology?: unknown },
  seed: number,
  seconds: number,
  device: string | null | undefined,
): string[] {
  const parts = [`seed ${seed}`, `age ${String(c.age)}`, String(c.sex)];
  if (c.pathology && c.pathology !== 'none') parts.push(String(c.pathology));
  parts.push(`${seconds.toFixed(1)} s${device ? ` on ${device}` : ''}`);
  return parts;
}

/** True once the conditions or the seed differ from those of the 1 mm result. */
export function useFullSizeStale(): boolean {
  const controller = useController();
  const result = useBackend((s) => s.result);
  return useConditions(
    (s) =>
      result !== null &&
      (s.seed !== result.seed ||
        Object.entries(controller.currentConditions()).some(
          ([k, v]) => conditionValues(result.conditions)[k] !== v,
        )),
  );
}

/**
 * "Full size (1 mm)": the current brain from the optional backend — its availability, the
 * job's progress, then the result's downloads. The logic is in fullSize.ts.
 */
export function FullSizePanel() {
  const controller = useController();
  const full = controller.fullSize;
  const url = useBackend((s) => s.url);
  const availability = useBackend((s) => s.availability);
  const device = useBackend((s) => s.device);
  const reason = useBackend((s) => s.reason);
  const phase = useBackend((s) => s.phase);
  const progress = useBackend((s) => s.progress);
  const stage = useBackend((s) => s.stage);
  const error = useBackend((s) => s.error);
  const result = useBackend((s) => s.result);
  const hasModel = useEngine((s) => s.manifest !== null);
  const stale = useFullSizeStale();
  const active = isActive(phase);
  const pct = Math.round(progress * 100);

  return (
    <div className="fullsize">
      <p className="muted" data-testid="backend-line">
        {availability === 'unknown' && (
          <>
            Optional backend at {url}: not checked yet.{' '}
            <button type="button" className="link" onClick={() => void full.check()}>
              Check for a backend
            </button>
          </>
        )}
        {(availability === 'ready' || availability === 'busy') && (
          <>
            Backend at {url} · <strong data-testid="backend-device">{device ?? '?'}</strong>
          </>
        )}
      </p>
      {availability === 'absent' && (
        <div className="notice" role="status" aria-label="Backend absent">
          <strong>No full-size backend at {url}.</strong> Start it from the repository with{' '}
          <code>{START_HINT}</code> (see docs/API.md). The browser&apos;s 2 mm generation works
          without it.
          {reason && <div className="muted">{reason}</div>}
          <button type="button" className="link" onClick={() => void full.check()}>
            Check again
          </button>
        </div>
      )}
      {availability === 'busy' && (
        <div className="error" role="alert" aria-label="Backend busy">
          Backend busy, try again in a moment.
          {reason && <div className="muted">{reason}</div>}
        </div>
      )}
      <div className="buttons">
        <button
          type="button"
          className="primary"
          disabled={!hasModel || active}
          onClick={() => void full.request()}
          title="Generate this brain (same conditions and seed) at 1 mm on the backend"
        >
          Full size (1 mm)
        </button>
        {active && (
          <button type="button" onClick={() => void full.cancel()}>
            Cancel
          </button>
        )}
      </div>
      {(active || phase === 'done') && (
        <div className="progress-row">
          <progress
            max={100}
            value={pct}
            aria-label="Full-size progress"
            aria-valuenow={pct}
            aria-valuemin={0}
            aria-valuemax={100}
          />
          <span data-testid="fullsize-progress">{pct} %</span>
          <span className="muted" data-testid="fullsize-stage">
            {phase === 'done' ? 'on screen' : stage}
          </span>
        </div>
      )}
      {phase === 'failed' && error && (
        <div className="error" role="alert" aria-label="Full-size failed">
          {error}
        </div>
      )}
      {phase === 'cancelled' && <p className="muted">Cancelled.</p>}
      {result && (
        <div className="fullsize-result">
          <p className="muted result-line" data-testid="fullsize-result">
            <span className="result-title">1 mm result:</span>{' '}
            {resultFacts(result.conditions, result.seed, result.seconds, result.device).map(
              (f, i) => (
                <Fragment key={f}>
                  {i > 0 && ' · '}
                  <span className="result-fact">{f}</span>
                </Fragment>
              ),
            )}
          </p>
          {stale && (
            <p className="stale" data-testid="fullsize-stale">
              <strong>Not the current conditions</strong>
            </p>
          )}
          <div className="buttons">
            <button type="button" onClick={() => full.download('image')}>
              Download 1 mm image (.nii.gz)
            </button>
            <button type="button" onClick={() => full.download('labels')}>
              Download 1 mm labels (.nii.gz)
            </button>
            <button type="button" onClick={() => full.download('sidecar')}>
              Download 1 mm sidecar (.json)
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
