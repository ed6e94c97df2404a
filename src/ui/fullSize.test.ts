import { describe, expect, it, vi } from 'vitest';
import { BackendError } from '../backend';
import { AppController } from './controller';
import {
  createFakeEngine,
  FakeBackendClient,
  FakeViewer,
  flush,
  FULL_IMAGE_BYTES,
  parseFullSizeFake,
  seedCounter,
} from './testing/fakes';

function setup(search = '?seed=123', opts: { envUrl?: string; backend?: boolean } = {}) {
  const engine = createFakeEngine();
  engine.parseNifti = parseFullSizeFake;
  const viewer = new FakeViewer();
  const clients: FakeBackendClient[] = [];
  const history = { replaceState: vi.fn() };
  const saved: { name: string; blob: Blob }[] = [];
  const controller = new AppController({
    engine,
    modelUrl: '/m/',
    createViewer: async () => viewer,
    location: { search, pathname: '/', hash: '' },
    history,
    randomSeed: seedCounter(500),
    saveBlob: (blob, name) => saved.push({ blob, name }),
    backendUrl: opts.envUrl,
    backend:
      opts.backend === false
        ? undefined
        : (url) => {
            const c = new FakeBackendClient(url);
            clients.push(c);
            return c;
          },
  });
  const backend = clients[0];
  return { controller, engine, viewer, backend, history, saved };
}

async function started(search?: string) {
  const s = setup(search);
  s.controller.attachViewer({} as HTMLCanvasElement);
  await s.controller.start();
  await flush();
  return s;
}

describe('Full size (1 mm)', () => {
  it('probes the default address only when asked (a quiet load without a backend)', async () => {
    const { controller, backend } = await started();
    expect(backend.baseUrl).toBe('http://127.0.0.1:8000');
    expect(backend.called('health')).toHaveLength(0);
    expect(controller.backend.getState().availability).toBe('unknown');
    await controller.fullSize.check();
    expect(controller.backend.getState()).toMatchObject({
      availability: 'ready',
      device: 'cpu',
      phase: 'idle',
    });
  });

  it('checks /health at start when a backend is named (?backend_url= or VITE_BACKEND_URL)', async () => {
    for (const s of [
      setup('?seed=1&backend_url=http://127.0.0.1:9000'),
      setup('?seed=1', { envUrl: 'http://127.0.0.1:9001' }),
    ]) {
      await s.controller.start();
      await flush();
      expect(s.backend.called('health')).toHaveLength(1);
      expect(s.controller.backend.getState().availability).toBe('ready');
    }
  });

  it('absent backend: availability absent with the reason; the app samples as before', async () => {
    const s = setup();
    s.backend.health_ = new BackendError('absent', 'backend absent: no answer from …');
    await s.controller.start();
    await s.controller.fullSize.check();
    expect(s.controller.backend.getState()).toMatchObject({
      availability: 'absent',
      reason: 'backend absent: no answer from …',
    });
    expect(s.controller.engine.getState().status).toBe('ready');
    await s.controller.fullSize.request();
    expect(s.backend.called('submitJob')).toHaveLength(0);
    expect(s.controller.backend.getState()).toMatchObject({
      availability: 'absent',
      phase: 'idle',
    });
  });

  it('sends the current conditions and seed, follows progress, shows the 1 mm volume', async () => {
    const { controller, backend, viewer } = await started('?seed=123&age=45');
    controller.conditions.getState().setCondition('pathology', 'ms');
    await flush();
    const seen: string[] = [];
    controller.backend.subscribe((s) => seen.push(`${s.phase} ${s.progress} ${s.stage}`));
    await controller.fullSize.request();
    expect(backend.called('submitJob')[0].args[0]).toEqual({
      modelId: 'fake-model',
      conditions: {
        age: 45,
        sex: 'female',
        pathology: 'ms',
        msLesionLoadMl: 8,
        contrast: 'T1w',
      },
      seed: 123,
      resolutionMm: 1,
      contrasts: ['T1w'],
    });
    expect(seen).toContain('running 0.05 anatomy');
    expect(seen).toContain('running 0.6 contrast');
    expect(seen).toContain('downloading 1 downloading the 1 mm files');
    expect(backend.called('downloadFile').map((c) => c.args[1])).toEqual([
      'brainsynth_seed-0000000123_T1w.nii.gz',
      'brainsynth_seed-0000000123_dseg.nii.gz',
      'brainsynth_seed-0000000123.json',
    ]);
    const shown = viewer.shown.at(-1)!;
    expect(shown.dims).toEqual([8, 6, 4]);
    expect(shown.spacing).toEqual([1, 1, 1]);
    expect(shown.labels).toBeInstanceOf(Int16Array);
    expect(shown.metadata.backend).toBe('server');
    const snap = controller.snapshot();
    expect(snap.fullSize).toMatchObject({ phase: 'done', progress: 1, showing: 'full-size' });
    expect(snap.fullSize.result?.volume.dims).toEqual([8, 6, 4]);
    expect(snap.fullSize.result?.generationSeconds).toBe(9.5);
    expect(snap.viewer.view?.dims).toEqual([8, 6, 4]);
    // the browser's own 2 mm volume is untouched
    expect(snap.volume?.dims).toEqual([4, 3, 2]);
  });

  it('back to the browser 2 mm view and forth; a new sample shows the browser volume', async () => {
    const { controller, viewer } = await started();
    await controller.fullSize.request();
    await controller.fullSize.show('browser');
    expect(viewer.shown.at(-1)!.dims).toEqual([4, 3, 2]);
    expect(controller.backend.getState().showing).toBe('browser');
    await controller.fullSize.show('full-size');
    expect(viewer.shown.at(-1)!.dims).toEqual([8, 6, 4]);
    expect(controller.backend.getState().showing).toBe('full-size');
    controller.conditions.getState().setCondition('age', 70);
    await flush();
    expect(viewer.shown.at(-1)!.dims).toEqual([4, 3, 2]);
    expect(controller.backend.getState().showing).toBe('browser');
    expect(controller.backend.getState().result).not.toBeNull(); // still downloadable
  });

  it('downloads the 1 mm image, labels and sidecar as fetched', async () => {
    const { controller, saved } = await started('?seed=123');
    await controller.fullSize.request();
    controller.fullSize.download('image');
    controller.fullSize.download('labels');
    controller.fullSize.download('sidecar');
    expect(saved.map((s) => s.name)).toEqual([
      'brainsynth_123_age45_female_1mm_T1w.nii.gz',
      'brainsynth_123_age45_female_1mm_dseg.nii.gz',
      'brainsynth_123_age45_female_1mm_T1w.json',
    ]);
    expect(new Uint8Array(await saved[0].blob.arrayBuffer())).toEqual(FULL_IMAGE_BYTES);
    expect(JSON.parse(await saved[2].blob.text())).toMatchObject({ seed: 123 });
  });

  it("a failed job: phase failed with the job's message; the view is unchanged", async () => {
    const { controller, backend, viewer } = await started();
    backend.final = { ...backend.final, state: 'failed', message: 'ZeroDivisionError: boom' };
    const before = viewer.shown.length;
    await controller.fullSize.request();
    expect(controller.backend.getState()).toMatchObject({
      phase: 'failed',
      error: 'Full-size generation failed: ZeroDivisionError: boom',
      showing: 'browser',
    });
    expect(viewer.shown.length).toBe(before);
  });

  it('429: availability busy with the reason, no job', async () => {
    const { controller, backend } = await started();
    backend.submitError = new BackendError('busy', 'backend busy, try again (queue full)', 429);
    await controller.fullSize.request();
    expect(controller.backend.getState()).toMatchObject({
      availability: 'busy',
      reason: 'backend busy, try again (queue full)',
      phase: 'idle',
    });
    backend.submitError = null;
    await controller.fullSize.request();
    expect(controller.backend.getState()).toMatchObject({ availability: 'ready', phase: 'done' });
  });

  it('other errors (422, unreadable files) fail the request with the reason', async () => {
    const { controller, backend, engine } = await started();
    backend.submitError = new BackendError('http', 'backend error 422: conditions.age: …', 422);
    await controller.fullSize.request();
    expect(controller.backend.getState().error).toBe(
      'Full-size generation failed: backend error 422: conditions.age: …',
    );
    backend.submitError = null;
    engine.parseNifti = () => {
      throw new Error('Truncated NIfTI file');
    };
    await controller.fullSize.request();
    expect(controller.backend.getState().error).toBe(
      'Full-size generation failed: Truncated NIfTI file',
    );
  });

  it('cancel: stops following and asks the backend to cancel', async () => {
    const { controller, backend } = await started();
    backend.manual = true;
    const p = controller.fullSize.request();
    await flush();
    expect(controller.backend.getState().phase).toBe('running');
    // a second click while one runs does nothing
    await controller.fullSize.request();
    expect(backend.called('submitJob')).toHaveLength(1);
    await controller.fullSize.cancel();
    await p;
    expect(backend.called('cancelJob')[0].args).toEqual(['job-1']);
    expect(controller.backend.getState().phase).toBe('cancelled');
    expect(controller.backend.getState().result).toBeNull();
  });

  it('backend URL: ?backend_url= beats VITE_BACKEND_URL and stays in the address bar', async () => {
    const s = setup('?seed=1&backend_url=http://gpu-box:8765/', { envUrl: 'http://env:9000' });
    expect(s.backend.baseUrl).toBe('http://gpu-box:8765');
    await s.controller.start();
    expect(s.history.replaceState).toHaveBeenLastCalledWith(
      null,
      '',
      expect.stringContaining('backend_url=http%3A%2F%2Fgpu-box%3A8765'),
    );
    expect(s.controller.conditions.getState().errors).toEqual([]);
    expect(setup('?seed=1', { envUrl: 'http://env:9000' }).backend.baseUrl).toBe('http://env:9000');
  });

  it('a bad ?backend_url= is refused with a message; the default is used', async () => {
    const s = setup('?seed=1&backend_url=javascript:alert(1)');
    expect(s.backend.baseUrl).toBe('http://127.0.0.1:8000');
    await s.controller.start();
    expect(s.controller.conditions.getState().errors).toEqual([
      'backend_url: "javascript:alert(1)" must be an http or https URL (got javascript:); using http://127.0.0.1:8000',
    ]);
    expect(s.history.replaceState).toHaveBeenLastCalledWith(
      null,
      '',
      expect.not.stringContaining('backend_url'),
    );
  });

  it('without a backend factory the button does nothing', async () => {
    const s = setup('?seed=1', { backend: false });
    await s.controller.start();
    await s.controller.fullSize.request();
    expect(s.controller.backend.getState()).toMatchObject({
      availability: 'unknown',
      phase: 'idle',
    });
  });
});
