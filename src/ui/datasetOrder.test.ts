import { describe, expect, it } from 'vitest';
import { BackendError } from '../backend';
import { DatasetOrder } from './datasetOrder';
import { FakeBackendClient, fakeDataset } from './testing/fakes';

const noSleep = async () => {};

describe('DatasetOrder', () => {
  it('submits the parsed spec and follows the dataset to its end', async () => {
    const client = new FakeBackendClient();
    const order = new DatasetOrder(client, { sleep: noSleep });
    order.setSpecText('{"count": 2, "seed": 1}');
    const phases: string[] = [];
    order.store.subscribe((s) => phases.push(s.phase));
    await order.submit();
    expect(client.called('submitDataset')[0].args[0]).toEqual({ count: 2, seed: 1 });
    expect(client.called('datasetStatus').length).toBe(2);
    const s = order.store.getState();
    expect(s.phase).toBe('done');
    expect(s.status?.done).toBe(2);
    expect(s.status?.qa_report_url).toBe('/qa/report.html');
    expect(phases).toContain('following');
  });

  it('refuses text that is not a JSON object, with the reason, and sends nothing', async () => {
    const client = new FakeBackendClient();
    const order = new DatasetOrder(client, { sleep: noSleep });
    order.setSpecText('{"count": 2,');
    await order.submit();
    expect(order.store.getState().phase).toBe('failed');
    expect(order.store.getState().error).toMatch(/not valid JSON/);
    order.setSpecText('[1, 2]');
    await order.submit();
    expect(order.store.getState().error).toMatch(/must be a JSON object/);
    expect(client.called('submitDataset')).toHaveLength(0);
    expect(order.store.getState().specText).toBe('[1, 2]'); // what was typed is kept
  });

  it("shows the server's reasons when the spec is refused (422)", async () => {
    const client = new FakeBackendClient();
    client.datasetError = new BackendError('http', 'HTTP 422', 422, [
      { loc: ['body', 'count'], msg: 'count must be >= 1', type: 'value_error' },
    ]);
    const order = new DatasetOrder(client, { sleep: noSleep });
    await order.submit();
    expect(order.store.getState().phase).toBe('failed');
    expect(order.store.getState().error).toMatch(/refused: .*count must be >= 1/);
  });

  it('a dataset that fails on the server ends failed with its message', async () => {
    const client = new FakeBackendClient();
    client.datasetStates = [
      fakeDataset({ state: 'running' }),
      fakeDataset({ state: 'failed', message: 'OSError: [Errno 28] No space left on device' }),
    ];
    const order = new DatasetOrder(client, { sleep: noSleep });
    await order.submit();
    expect(order.store.getState().phase).toBe('failed');
    expect(order.store.getState().error).toMatch(/No space left/);
  });

  it('stop cancels the dataset on the server', async () => {
    const client = new FakeBackendClient();
    client.datasetStates = [fakeDataset({ state: 'running' })];
    let wake: () => void = () => {};
    const order = new DatasetOrder(client, {
      sleep: () => new Promise<void>((r) => (wake = r)),
    });
    const running = order.submit();
    await new Promise((r) => setTimeout(r, 0));
    expect(order.store.getState().phase).toBe('following');
    await order.cancel();
    wake();
    await running;
    expect(client.called('cancelDataset')[0].args[0]).toBe('ds-1');
    expect(order.store.getState().phase).toBe('cancelled');
  });

  it('without a backend client it says so', async () => {
    const order = new DatasetOrder(null);
    await order.submit();
    expect(order.store.getState().error).toMatch(/no backend client/);
  });
});
