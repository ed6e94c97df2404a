import { describe, expect, it } from 'vitest';
import { fakeJob, fakeVolume } from '../testing/fakes';
import { createBackendStore, isActive, type FullSizeResult } from './backendStore';

const store = () => createBackendStore('http://127.0.0.1:8000');

describe('backendStore', () => {
  it('starts unknown, idle, showing the browser volume', () => {
    expect(store().getState()).toMatchObject({
      url: 'http://127.0.0.1:8000',
      availability: 'unknown',
      phase: 'idle',
      progress: 0,
      showing: 'browser',
      result: null,
    });
  });

  it('availability: ready (device) / absent / busy, each with its reason', () => {
    const s = store();
    s.getState().setReady('NVIDIA H100 80GB HBM3', '0.1.0');
    expect(s.getState()).toMatchObject({ availability: 'ready', device: 'NVIDIA H100 80GB HBM3' });
    s.getState().setBusy('backend busy, try again');
    expect(s.getState()).toMatchObject({ availability: 'busy', reason: 'backend busy, try again' });
    s.getState().setAbsent('backend absent: no answer');
    expect(s.getState()).toMatchObject({ availability: 'absent' });
    s.getState().setUrl('http://gpu:8000');
    expect(s.getState()).toMatchObject({ url: 'http://gpu:8000', availability: 'unknown' });
  });

  it('a job: queued (position) → running (stage) → progress never goes back', () => {
    const s = store();
    s.getState().start();
    expect(s.getState()).toMatchObject({ phase: 'submitting', progress: 0 });
    expect(isActive(s.getState().phase)).toBe(true);
    s.getState().update(fakeJob({ state: 'queued', queue_position: 2 }));
    expect(s.getState()).toMatchObject({ phase: 'queued', stage: 'queued (position 2)' });
    s.getState().update(fakeJob({ state: 'running', progress: 0.6, message: 'contrast' }));
    s.getState().update(fakeJob({ state: 'running', progress: 0.4, message: 'late event' }));
    expect(s.getState()).toMatchObject({ phase: 'running', progress: 0.6, stage: 'late event' });
    s.getState().update(fakeJob({ state: 'running', progress: 7 }));
    expect(s.getState().progress).toBe(1);
    // a new job starts from 0 again
    s.getState().start();
    s.getState().update(fakeJob({ id: 'job-2', state: 'running', progress: 0.1 }));
    expect(s.getState().progress).toBe(0.1);
  });

  it('a job update means the backend is there (busy/absent → ready)', () => {
    const s = store();
    s.getState().setBusy('queue full');
    s.getState().start();
    s.getState().update(fakeJob());
    expect(s.getState().availability).toBe('ready');
  });

  it('downloading, failed, cancelled, done', () => {
    const s = store();
    s.getState().start();
    s.getState().downloading('downloading the 1 mm files');
    expect(s.getState()).toMatchObject({ phase: 'downloading', progress: 1 });
    s.getState().fail('Full-size generation failed: boom');
    expect(s.getState()).toMatchObject({
      phase: 'failed',
      error: 'Full-size generation failed: boom',
    });
    expect(isActive(s.getState().phase)).toBe(false);
    s.getState().start();
    expect(s.getState().error).toBeNull();
    s.getState().cancelled();
    expect(s.getState().phase).toBe('cancelled');
    const volume = fakeVolume({ age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' }, 1);
    const bytes = { name: 'x', bytes: new Uint8Array(1) };
    const result: FullSizeResult = {
      jobId: 'job-1',
      volume,
      files: { image: bytes, labels: bytes, sidecar: bytes },
      conditions: volume.metadata.conditions,
      seed: 1,
      contrast: 'T1w',
      device: 'cpu',
      seconds: 12,
      generationSeconds: 9,
      timings: { jobS: 10, downloadS: 1, parseS: 0.5, displayS: 0.5 },
    };
    s.getState().done(result);
    expect(s.getState()).toMatchObject({ phase: 'done', showing: 'full-size', progress: 1 });
    s.getState().show('browser');
    expect(s.getState()).toMatchObject({ showing: 'browser', result });
  });
});
