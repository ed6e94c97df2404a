import { useId, useState } from 'react';
import { useStore } from 'zustand';
import { useController, useEngine } from '../context';
import { DEFAULT_BATCH, MAX_BATCH, MIXED, type BatchSpec } from '../batchExport';
import { controlSpec, isEnumProperty } from '../schema';

/** A labelled number field of the batch form. */
function NumberField(props: {
  label: string;
  value: string;
  min: number;
  max: number;
  step?: number;
  disabled: boolean;
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div className="batch-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

/**
 * "Batch export (BIDS)": N subjects with covariates from chosen ranges, sampled in the
 * engine's worker lane, then one zip (a BIDS derivative dataset). Logic: batchExport.ts.
 */
export function BatchExportPanel() {
  const batch = useController().batch;
  const schema = useEngine((s) => s.schema);
  const phase = useStore(batch.store, (s) => s.phase);
  const done = useStore(batch.store, (s) => s.done);
  const total = useStore(batch.store, (s) => s.total);
  const problems = useStore(batch.store, (s) => s.problems);
  const error = useStore(batch.store, (s) => s.error);
  const fileName = useStore(batch.store, (s) => s.fileName);
  const bytes = useStore(batch.store, (s) => s.bytes);
  const pathId = useId();
  const contrastId = useId();
  const [form, setForm] = useState({
    count: String(DEFAULT_BATCH),
    ageMin: '30',
    ageMax: '80',
    women: '50',
    pathology: 'none',
    contrast: 'T1w',
    seed: '1',
  });
  if (!schema) return <p className="muted">Loading model…</p>;
  const running = phase === 'running';
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const pathProp = schema.properties.pathology;
  const contrastProp = schema.properties.contrast;
  const pathologies =
    pathProp && isEnumProperty(pathProp) ? controlSpec('pathology', pathProp) : null;
  const contrasts = contrastProp && isEnumProperty(contrastProp) ? contrastProp.enum : ['T1w'];
  const ageProp = schema.properties.age;
  const age = ageProp ? controlSpec('age', ageProp) : null;
  const [ageLo, ageHi] = age && age.kind === 'number' ? [age.min, age.max] : [0, 120];
  const num = (v: string) => (v.trim() === '' ? NaN : Number(v));
  const spec = (): BatchSpec => ({
    count: num(form.count),
    ageMin: num(form.ageMin),
    ageMax: num(form.ageMax),
    femaleShare: num(form.women) / 100,
    pathology: form.pathology,
    contrast: form.contrast,
    seed: num(form.seed),
  });
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div className="batch">
      <p className="muted">
        Many brains in this browser, as one BIDS zip (image, label map and sidecars per subject,
        participants.tsv). Up to {MAX_BATCH} subjects.
      </p>
      <div className="batch-grid">
        <NumberField
          label="Subjects"
          value={form.count}
          min={1}
          max={MAX_BATCH}
          disabled={running}
          onChange={set('count')}
        />
        <NumberField
          label="Women (%)"
          value={form.women}
          min={0}
          max={100}
          disabled={running}
          onChange={set('women')}
        />
        <NumberField
          label="Youngest age"
          value={form.ageMin}
          min={ageLo}
          max={ageHi}
          disabled={running}
          onChange={set('ageMin')}
        />
        <NumberField
          label="Oldest age"
          value={form.ageMax}
          min={ageLo}
          max={ageHi}
          disabled={running}
          onChange={set('ageMax')}
        />
        <div className="batch-field">
          <label htmlFor={pathId}>Disease</label>
          <select
            id={pathId}
            value={form.pathology}
            disabled={running}
            onChange={(e) => set('pathology')(e.target.value)}
          >
            {pathologies?.kind === 'enum' &&
              pathologies.options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.title}
                </option>
              ))}
            <option value={MIXED}>Mixed (each in turn)</option>
          </select>
        </div>
        <div className="batch-field">
          <label htmlFor={contrastId}>Image contrast</label>
          <select
            id={contrastId}
            value={form.contrast}
            disabled={running}
            onChange={(e) => set('contrast')(e.target.value)}
          >
            {contrasts.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <NumberField
          label="Batch seed"
          value={form.seed}
          min={0}
          max={4294967295}
          disabled={running}
          onChange={set('seed')}
        />
      </div>
      <div className="buttons">
        <button
          type="button"
          className="primary"
          disabled={running}
          onClick={() => void batch.start(spec())}
        >
          Export BIDS zip
        </button>
        {running && (
          <button type="button" onClick={() => batch.cancel()}>
            Cancel batch
          </button>
        )}
      </div>
      {(running || phase === 'done') && (
        <div className="progress-row">
          <progress
            max={100}
            value={pct}
            aria-label="Batch progress"
            aria-valuenow={pct}
            aria-valuemin={0}
            aria-valuemax={100}
          />
          <span data-testid="batch-progress">
            {done} of {total} subjects
          </span>
        </div>
      )}
      {phase === 'cancelled' && (
        <p className="muted" role="status" data-testid="batch-cancelled">
          Cancelled after {done} of {total} subjects; nothing was saved.
        </p>
      )}
      {phase === 'done' && fileName && (
        <p className="muted" role="status">
          Saved <strong data-testid="batch-file">{fileName}</strong> (
          {(bytes / 1024 / 1024).toFixed(1)} MB).{' '}
          <button type="button" className="link" onClick={() => batch.download()}>
            Download again
          </button>
        </p>
      )}
      {problems.length > 0 && (
        <div className="error" role="alert" data-testid="batch-problems">
          Not started:
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
