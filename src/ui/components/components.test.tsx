// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { AppContext, ViewContext } from '../context';
import { AppController } from '../controller';
import { ConditionsPanel } from './ConditionsPanel';
import { createFakeEngine, FakeViewer, flush, seedCounter } from '../testing/fakes';
import { TYPING_DEBOUNCE_MS } from './NumberControl';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

async function renderApp(search = '?seed=5') {
  const engine = createFakeEngine();
  const viewer = new FakeViewer();
  const controller = new AppController({
    engine,
    modelUrl: '/m/',
    createViewer: async () => viewer,
    location: { search, pathname: '/', hash: '' },
    history: { replaceState: () => undefined },
    randomSeed: seedCounter(900),
    saveBlob: () => undefined,
  });
  render(<App controller={controller} />);
  await act(async () => {
    await controller.start();
    await flush();
  });
  return { engine, viewer, controller };
}

describe('controls generated from the schema', () => {
  it('renders a labelled control for each visible property, in x-order', async () => {
    await renderApp();
    const age = screen.getByLabelText('Age') as HTMLInputElement;
    expect(age.type).toBe('range');
    expect([age.min, age.max, age.step, age.value]).toEqual(['20', '90', '1', '45']);
    expect((screen.getByLabelText('Age value') as HTMLInputElement).value).toBe('45');
    expect(screen.getByText('years')).toBeTruthy();
    expect(screen.getByRole('radio', { name: 'female' })).toHaveProperty('checked', true);
    const pathology = screen.getByLabelText('Pathology') as HTMLSelectElement;
    expect([...pathology.options].map((o) => o.text)).toContain("Alzheimer's disease");
    const controls = screen.getByRole('complementary', { name: 'Controls' });
    const text = controls.textContent ?? '';
    expect(text.indexOf('Age')).toBeLessThan(text.indexOf('Sex'));
    expect(text.indexOf('Pathology')).toBeLessThan(text.indexOf('Contrast'));
  });

  it('x-showWhen: pathology-specific controls appear only for their pathology', async () => {
    const { engine } = await renderApp();
    expect(screen.queryByLabelText('AD severity')).toBeNull();
    await act(async () => {
      fireEvent.change(screen.getByLabelText('Pathology'), { target: { value: 'alzheimers' } });
      await flush();
    });
    expect(screen.getByLabelText('AD severity')).toBeTruthy();
    expect(screen.queryByLabelText('MS lesion load')).toBeNull();
    expect(engine.calls.at(-1)!.conditions).toMatchObject({
      pathology: 'alzheimers',
      adSeverity: 0.5,
    });
  });

  it('samples on slider RELEASE, not on every drag tick', async () => {
    const { engine } = await renderApp();
    const age = screen.getByLabelText('Age') as HTMLInputElement;
    const before = engine.calls.length;
    for (const v of ['50', '60', '70']) fireEvent.input(age, { target: { value: v } });
    await act(flush);
    expect(engine.calls.length).toBe(before);
    expect((screen.getByLabelText('Age value') as HTMLInputElement).value).toBe('70');
    await act(async () => {
      fireEvent.pointerUp(age);
      await flush();
    });
    expect(engine.calls.length).toBe(before + 1);
    expect(engine.calls.at(-1)!.conditions.age).toBe(70);
    // the native change event that follows the release does not sample twice
    await act(async () => {
      fireEvent.change(age, { target: { value: '70' } });
      await flush();
    });
    expect(engine.calls.length).toBe(before + 1);
  });

  it('commits typed numbers after a debounce and refuses out-of-range ones', async () => {
    const { engine } = await renderApp();
    vi.useFakeTimers();
    const before = engine.calls.length;
    const num = screen.getByLabelText('Age value') as HTMLInputElement;
    fireEvent.change(num, { target: { value: '6' } });
    fireEvent.change(num, { target: { value: '63' } });
    expect(engine.calls.length).toBe(before);
    await act(async () => {
      vi.advanceTimersByTime(TYPING_DEBOUNCE_MS + 10);
    });
    vi.useRealTimers();
    await act(flush);
    expect(engine.calls.length).toBe(before + 1);
    expect(engine.calls.at(-1)!.conditions.age).toBe(63);

    fireEvent.change(num, { target: { value: '200' } });
    fireEvent.keyDown(num, { key: 'Enter' });
    await act(flush);
    expect(screen.getByRole('alert').textContent).toMatch(/Age must be between 20 and 90/);
    expect(engine.calls.length).toBe(before + 1);
    expect((screen.getByLabelText('Age') as HTMLInputElement).value).toBe('63');
  });

  it('keep subject / new subject', async () => {
    const { engine } = await renderApp('?seed=5');
    const keep = screen.getByLabelText('Keep subject') as HTMLInputElement;
    expect(keep.checked).toBe(true);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'New subject' }));
      await flush();
    });
    expect(engine.calls.at(-1)!.seed).toBe(900);
    expect(screen.getByTestId('seed').textContent).toBe('900');
    await act(async () => {
      fireEvent.click(keep);
      fireEvent.click(screen.getByRole('radio', { name: 'male' }));
      await flush();
    });
    expect(engine.calls.at(-1)).toMatchObject({ seed: 901, conditions: { sex: 'male' } });
  });
});

describe('status, notices, files', () => {
  it('shows status, backend (reason on hover), last sample time and model', async () => {
    await renderApp();
    expect(screen.getByRole('status').textContent).toBe('Ready');
    const backend = screen.getByTestId('backend');
    expect(backend.textContent).toBe('CPU');
    expect(backend.parentElement!.getAttribute('title')).toMatch(/cpu/);
    expect(screen.getByTestId('sample-ms').textContent).toBe('12 ms');
    const sampler = screen.getByTestId('sampler');
    expect(sampler.textContent).toBe('Distilled');
    expect(sampler.parentElement!.getAttribute('title')).toMatch(/student/);
    expect(screen.getByTestId('model').textContent).toBe('fake-model v0.0.1');
    expect(screen.getByText(/not for diagnosis/)).toBeTruthy();
  });

  it('lists refused URL parameters', async () => {
    await renderApp('?age=200&sex=robot');
    const alert = screen.getByRole('alert', { name: 'Refused parameters' });
    expect(within(alert).getAllByRole('listitem')).toHaveLength(2);
    expect(alert.textContent).toMatch(/the default 45 is used/);
    expect((screen.getByLabelText('Age') as HTMLInputElement).value).toBe('45');
  });

  it('a corrupt upload shows an error; controls keep working', async () => {
    const { engine } = await renderApp();
    const input = screen.getByLabelText('Open NIfTI…') as HTMLInputElement;
    await act(async () => {
      fireEvent.change(input, { target: { files: [new File([new Uint8Array(3)], 'bad.nii.gz')] } });
      await flush();
      await flush();
    });
    expect(screen.getByRole('alert').textContent).toMatch(/Could not open "bad.nii.gz"/);
    const n = engine.calls.length;
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'New subject' }));
      await flush();
    });
    expect(engine.calls.length).toBe(n + 1);
  });

  it('display controls drive the viewer', async () => {
    const { viewer } = await renderApp();
    await act(async () => {
      fireEvent.click(screen.getByLabelText('Label overlay'));
      fireEvent.click(screen.getByLabelText('Radiological convention'));
    });
    expect(viewer.overlay).toBe(false);
    expect(viewer.radiological).toBe(true);
    await act(async () => {
      viewer.cursorCb!({
        mm: [10, -20, 5],
        intensity: 0.43219,
        label: 4,
        name: 'Left-Lateral-Ventricle',
      });
    });
    expect(screen.getByTestId('structure').textContent).toBe('Left-Lateral-Ventricle');
    expect(screen.getByTestId('intensity').textContent).toBe('0.432');
  });
});

describe('views', () => {
  it('a panel inside a ViewContext reads and commits to that view only', async () => {
    const { controller } = await renderApp('?seed=5&age=40');
    const second = controller.addView();
    cleanup();
    render(
      <AppContext.Provider value={controller}>
        <ViewContext.Provider value={second}>
          <ConditionsPanel />
        </ViewContext.Provider>
      </AppContext.Provider>,
    );
    const age = screen.getByLabelText('Age') as HTMLInputElement;
    expect(age.value).toBe('40');
    await act(async () => {
      fireEvent.change(age, { target: { value: '70' } });
      fireEvent.pointerUp(age);
      await flush();
    });
    expect(second.conditions.getState().conditions.age).toBe(70);
    expect(controller.conditions.getState().conditions.age).toBe(40);
  });
});
