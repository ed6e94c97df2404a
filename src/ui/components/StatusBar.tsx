import { useEngine } from '../context';
import type { EngineStatus } from '../stores/engineStore';

export const BACKEND_TITLES: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WASM',
  cpu: 'CPU',
};

const STATUS_TEXT: Record<EngineStatus, string> = {
  loading: 'Loading model…',
  ready: 'Ready',
  sampling: 'Generating…',
  error: 'Error',
};

/** Status, tfjs backend (reason on hover), last sample time, model id/version. */
export function StatusBar() {
  const status = useEngine((s) => s.status);
  const backend = useEngine((s) => s.backend);
  const reason = useEngine((s) => s.backendReason);
  const ms = useEngine((s) => s.lastSampleMs);
  const manifest = useEngine((s) => s.manifest);
  return (
    <div className="statusbar">
      <span role="status" aria-label="Status" className={`status status-${status}`}>
        {STATUS_TEXT[status]}
      </span>
      <span className="item" title={reason || undefined}>
        Backend:{' '}
        <strong aria-label="Backend" data-testid="backend">
          {backend ? (BACKEND_TITLES[backend] ?? backend) : '—'}
        </strong>
      </span>
      <span className="item">
        Last sample:{' '}
        <strong aria-label="Last sample time" data-testid="sample-ms">
          {ms === null ? '—' : `${Math.round(ms)} ms`}
        </strong>
      </span>
      <span className="item model" data-testid="model">
        {manifest ? `${manifest.id} v${manifest.version}` : ''}
      </span>
    </div>
  );
}
