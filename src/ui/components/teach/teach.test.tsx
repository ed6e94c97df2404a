// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../App';
import { AppController } from '../../controller';
import { teachOf } from '../../teach';
import { createFakeEngine, FakeViewer, flush, seedCounter } from '../../testing/fakes';

afterEach(() => cleanup());

async function renderApp(search = '?seed=5&age=50') {
  const controller = new AppController({
    engine: createFakeEngine(),
    modelUrl: '/m/',
    createViewer: async () => new FakeViewer(),
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
  return controller;
}

const settle = () =>
  act(async () => {
    for (let i = 0; i < 5; i++) await flush();
  });

describe('teaching panels', () => {
  it('compare: a named viewer count opens labelled viewers with their own conditions', async () => {
    const controller = await renderApp();
    const controls = screen.getByRole('complementary', { name: 'Controls' });
    fireEvent.click(within(controls).getByRole('radio', { name: '2 viewers' }));
    await settle();
    expect(screen.getByRole('region', { name: 'Viewer A' })).toBeTruthy();
    const b = screen.getByRole('region', { name: 'Viewer B' });
    expect(within(b).getByText('Conditions of B')).toBeTruthy();
    fireEvent.click(within(b).getByRole('radio', { name: 'male' }));
    await settle();
    const [, vb] = teachOf(controller).compare.views;
    expect(vb.conditions.getState().conditions.sex).toBe('male');
    expect(controller.conditions.getState().conditions.sex).toBe('female');
    fireEvent.click(within(controls).getByLabelText('Difference map (A − B)'));
    await settle();
    expect(screen.getByTestId('difference-status').textContent).toMatch(/A − B on screen/);
    expect(screen.getByRole('region', { name: 'Difference A − B' })).toBeTruthy();
  });

  it('time-lapse: open, readout, named transport controls, keyboard scrubbing', async () => {
    await renderApp();
    fireEvent.click(screen.getByRole('button', { name: 'Open time-lapse' }));
    await settle();
    const bar = screen.getByRole('group', { name: 'Time-lapse' });
    expect(screen.getByTestId('timelapse-readout').textContent).toBe('Age 50 y');
    expect(within(bar).getByRole('button', { name: 'Play' })).toBeTruthy();
    expect(within(bar).getByLabelText('Loop')).toBeTruthy();
    expect(within(bar).getByLabelText('Speed (frames per second)')).toBeTruthy();
    const scrub = within(bar).getByRole('slider', { name: 'Time-lapse frame' });
    fireEvent.change(scrub, { target: { value: '0' } });
    await settle();
    expect(screen.getByTestId('timelapse-readout').textContent).toBe('Age 20 y');
    fireEvent.keyDown(scrub, { key: 'k' });
    expect(within(bar).getByRole('button', { name: 'Pause' })).toBeTruthy();
    fireEvent.keyDown(scrub, { key: 'k' });
    expect(within(bar).getByRole('button', { name: 'Play' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Close time-lapse' }));
    await settle();
    expect(screen.queryByRole('group', { name: 'Time-lapse' })).toBeNull();
  });

  it('presentation mode is a named toggle on the document root', async () => {
    await renderApp();
    const toggle = screen.getByRole('button', { name: 'Presentation mode' });
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(document.documentElement.classList.contains('presentation')).toBe(true);
    fireEvent.click(toggle);
    expect(document.documentElement.classList.contains('presentation')).toBe(false);
  });
});
