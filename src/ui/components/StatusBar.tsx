import { useEngine } from '../context';
import type { EngineStatus } from '../stores/engineStore';

export const BACKEND_TITLES: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WASM',
  cpu: 'CPU',
};

const SAMPLER_TITLES: Record<string, [string, string]> = {
  student: ['Distilled', 'Distilled student network: the deformation in one pass'],
  exact: ['Exact', 'Exact sampler: scaling and squaring of the velocity field'],
};

const STATUS_TEXT: Record<EngineStatus, string> = {
  loading: 'Loading model…',
  ready: 'Ready',
  sampling: 'Generating…',
  error: 'Error',
};

/** Status, tfjs backend (reason on hover), sampler, last sample time, model id/version. */
export function StatusBar() {
  const status = useEngine((s) => s.status);
  const backend = useEngine((s) => s.backend);
  const reason = useEngine((s) => s.backendReason);
  const ms = useEngine((s) => s.lastSampleMs);
  const manifest = useEngine((s) => s.manifest);
  const sampler = useEngine((s) => s.volume?.metadata.sampler ?? null);
  const [samplerText, samplerTitle] = sampler ? (SAMPLER_TITLES[sampler] ?? [sampler, '']) : ['—'];
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
      <span className="item" title={samplerTitle || undefined}>
        Sampler:{' '}
        <strong aria-label="Sampler" data-testid="sampler">
          {samplerText}
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
