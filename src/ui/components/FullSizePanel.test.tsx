// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../../backend';
import { App } from '../App';
import { AppController } from '../controller';
import {
  createFakeEngine,
  FakeBackendClient,
  FakeViewer,
  flush,
  parseFullSizeFake,
  seedCounter,
} from '../testing/fakes';

afterEach(cleanup);

async function renderApp(script: (b: FakeBackendClient) => void = () => undefined) {
  const engine = createFakeEngine();
  engine.parseNifti = parseFullSizeFake;
  const viewer = new FakeViewer();
  let backend!: FakeBackendClient;
  const saved: string[] = [];
  const controller = new AppController({
    engine,
    modelUrl: '/m/',
    createViewer: async () => viewer,
    location: { search: '?seed=123', pathname: '/', hash: '' },
    history: { replaceState: () => undefined },
    randomSeed: seedCounter(900),
    saveBlob: (_blob, name) => saved.push(name),
    backendUrl: 'http://127.0.0.1:8000', // a named backend is probed at start
    backend: (url) => {
      backend = new FakeBackendClient(url);
      script(backend);
      return backend;
    },
  });
  render(<App controller={controller} />);
  await act(async () => {
    await controller.start();
    await flush();
  });
  return { controller, backend, viewer, saved };
}

const fullSizeButton = () => screen.getByRole('button', { name: 'Full size (1 mm)' });

async function click(el: HTMLElement) {
  await act(async () => {
    fireEvent.click(el);
    for (let i = 0; i < 6; i++) await flush();
  });
}

describe('Full size panel', () => {
  it('shows the backend device when one answers', async () => {
    await renderApp((b) => {
      b.health_ = { ...(b.health_ as object), device: 'NVIDIA H100 80GB HBM3' } as never;
    });
    expect(screen.getByTestId('backend-line').textContent).toBe(
      'Backend at http://127.0.0.1:8000 · NVIDIA H100 80GB HBM3',
    );
    expect(fullSizeButton()).toHaveProperty('disabled', false);
    expect(screen.queryByTestId('showing')).toBeNull(); // no indicator before a result
  });

  it('absent: says how to start it; Check again finds it once it runs', async () => {
    const { backend } = await renderApp((b) => {
      b.health_ = new BackendError('absent', 'backend absent: no answer from … (fetch failed)');
    });
    const alert = screen.getByRole('status', { name: 'Backend absent' });
    expect(alert.textContent).toMatch(/No full-size backend at http:\/\/127\.0\.0\.1:8000/);
    expect(within(alert).getByText('npm run backend')).toBeTruthy();
    expect(alert.textContent).toMatch(/fetch failed/);
    backend.health_ = { ...(new FakeBackendClient().health_ as object) } as never;
    await click(within(alert).getByRole('button', { name: 'Check again' }));
    expect(screen.queryByRole('status', { name: 'Backend absent' })).toBeNull();
    expect(screen.getByTestId('backend-device').textContent).toBe('cpu');
  });

  it('progress bar with the stage while the job runs, then the 1 mm view and its downloads', async () => {
    const { backend, viewer, saved } = await renderApp((b) => {
      b.manual = true;
    });
    await click(fullSizeButton());
    const bar = screen.getByRole('progressbar', { name: 'Full-size progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('60');
    expect(screen.getByTestId('fullsize-progress').textContent).toBe('60 %');
    expect(screen.getByTestId('fullsize-stage').textContent).toBe('contrast');
    expect(fullSizeButton()).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
    expect(screen.getByText('Full size 1 mm: 60 %')).toBeTruthy(); // badge on the viewer

    await act(async () => backend.finish());
    await waitFor(() => expect(screen.getByTestId('fullsize-stage').textContent).toBe('on screen'));
    expect(screen.getByTestId('fullsize-progress').textContent).toBe('100 %');
    expect(viewer.shown.at(-1)!.dims).toEqual([8, 6, 4]);
    const showing = screen.getByTestId('showing');
    expect(showing.textContent).toMatch(/Showing: full size 1 mm \(backend\)/);
    expect(screen.getByTestId('fullsize-result').textContent).toMatch(
      /1 mm result: seed 123 · age 45 · female · \d+\.\d s on cpu/,
    );

    for (const name of [/1 mm image/, /1 mm labels/, /1 mm sidecar/])
      await click(screen.getByRole('button', { name }));
    expect(saved).toEqual([
      'brainsynth_123_age45_female_1mm_T1w.nii.gz',
      'brainsynth_123_age45_female_1mm_dseg.nii.gz',
      'brainsynth_123_age45_female_1mm_T1w.json',
    ]);

    await click(within(showing).getByRole('button', { name: 'Back to browser 2 mm' }));
    expect(screen.getByTestId('showing').textContent).toMatch(/Showing: browser 2 mm/);
    expect(viewer.shown.at(-1)!.dims).toEqual([4, 3, 2]);
    await click(screen.getByRole('button', { name: 'Show full size 1 mm' }));
    expect(viewer.shown.at(-1)!.dims).toEqual([8, 6, 4]);
  });

  it('marks the result as not the current brain once the conditions change', async () => {
    await renderApp();
    await click(fullSizeButton());
    await waitFor(() => screen.getByTestId('fullsize-result'));
    expect(screen.queryByTestId('fullsize-stale')).toBeNull();
    await click(screen.getByRole('radio', { name: 'male' }));
    expect(screen.getByTestId('fullsize-stale').textContent).toMatch(/Not the current conditions/);
    expect(screen.getByTestId('showing').textContent).toMatch(/browser 2 mm/);
    await click(screen.getByRole('button', { name: 'Show full size 1 mm' }));
    expect(screen.getByTestId('showing').textContent).toMatch(
      /full size 1 mm \(backend\) · earlier conditions/,
    );
  });

  it('busy (429): "Backend busy, try again"', async () => {
    await renderApp((b) => {
      b.submitError = new BackendError('busy', 'backend busy, try again in 12 s (queue full)', 429);
    });
    await click(fullSizeButton());
    const alert = screen.getByRole('alert', { name: 'Backend busy' });
    expect(alert.textContent).toMatch(/Backend busy, try again/);
    expect(alert.textContent).toMatch(/in 12 s/);
    expect(fullSizeButton()).toHaveProperty('disabled', false);
  });

  it("failed: the job's message", async () => {
    await renderApp((b) => {
      b.final = { ...b.final, state: 'failed', message: 'timed out after 3600 s' };
    });
    await click(fullSizeButton());
    expect(screen.getByRole('alert', { name: 'Full-size failed' }).textContent).toBe(
      'Full-size generation failed: timed out after 3600 s',
    );
    expect(screen.queryByTestId('showing')).toBeNull();
  });

  it('Cancel stops the job', async () => {
    const { backend } = await renderApp((b) => {
      b.manual = true;
    });
    await click(fullSizeButton());
    await click(screen.getByRole('button', { name: 'Cancel' }));
    expect(backend.called('cancelJob')).toHaveLength(1);
    expect(screen.getByText('Cancelled.')).toBeTruthy();
    expect(fullSizeButton()).toHaveProperty('disabled', false);
  });
});
