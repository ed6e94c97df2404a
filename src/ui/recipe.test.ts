import { describe, expect, it, vi } from 'vitest';
import { AppController } from './controller';
import {
  labelsChecksum,
  modelMismatch,
  parseModelTag,
  parseRecipe,
  recipeJson,
  type Recipe,
} from './recipe';
import { createFakeEngine, FakeViewer, flush, seedCounter } from './testing/fakes';

function setup(search: string) {
  const engine = createFakeEngine();
  const history = { replaceState: vi.fn() };
  const controller = new AppController({
    engine,
    modelUrl: '/m/',
    createViewer: async () => new FakeViewer(),
    location: { search, pathname: '/', hash: '' },
    history,
    randomSeed: seedCounter(500),
    saveBlob: () => undefined,
  });
  return { controller, engine, history };
}

async function started(search: string) {
  const s = setup(search);
  await s.controller.start();
  await flush();
  return s;
}

describe('recipe', () => {
  it('names the conditions, seed, sampler and model of the volume on screen', async () => {
    const { controller } = await started('?seed=42&age=70&pathology=ms');
    const r = controller.recipe()!;
    expect(r).toMatchObject({
      format: 'brainsynth-recipe',
      formatVersion: 1,
      model: { id: 'fake-model', version: '0.0.1' },
      seed: 42,
      sampler: 'student',
      conditions: { age: 70, pathology: 'ms' },
    });
    expect(parseRecipe(recipeJson(r))).toEqual({ ok: true, recipe: r });
  });

  it('applying a recipe reproduces the same volume (same labels checksum)', async () => {
    const a = await started('?seed=42&age=70&pathology=ms');
    const recipe = recipeJson(a.controller.recipe()!);
    const want = a.controller.snapshot().volume!.labelsChecksum;
    const b = await started('?seed=7&age=30');
    expect(b.controller.snapshot().volume!.labelsChecksum).not.toBe(want);
    expect(b.controller.applyRecipe(recipe)).toBe(true);
    await flush();
    const s = b.controller.snapshot();
    expect(s.volume!.labelsChecksum).toBe(want);
    expect(s.seed).toBe(42);
    expect(s.errors).toEqual([]);
    expect(b.history.replaceState.mock.lastCall?.[2]).toMatch(/seed=42.*model=fake-model@0\.0\.1/);
  });

  it('a recipe from another model version is applied with a notice', async () => {
    const { controller } = await started('?seed=1');
    const r: Recipe = { ...controller.recipe()!, model: { id: 'fake-model', version: '9.9.9' } };
    expect(controller.applyRecipe(JSON.stringify(r))).toBe(true);
    expect(controller.snapshot().errors).toEqual([
      'This recipe was made with version 9.9.9; this app runs version 0.0.1: the same conditions and seed may give a different brain.',
    ]);
  });

  it('refuses what is no recipe; refuses bad values one by one', async () => {
    const { controller } = await started('?seed=1&age=60');
    expect(controller.applyRecipe('{nope')).toBe(false);
    expect(controller.snapshot().errors[0]).toMatch(/^Recipe refused: not JSON/);
    expect(controller.snapshot().conditions).toMatchObject({ age: 60 });
    expect(parseRecipe('{"format":"x"}')).toEqual({
      ok: false,
      error: '"format" must be "brainsynth-recipe"',
    });
    const r = { ...controller.recipe()!, conditions: { age: 300, pathology: 'glioma' } };
    expect(controller.applyRecipe(JSON.stringify(r))).toBe(true);
    const s = controller.snapshot();
    expect(s.conditions).toMatchObject({ age: 45, pathology: 'glioma' });
    expect(s.errors[0]).toMatch(/^Recipe: age=300 refused/);
  });

  it('the URL names the model; a link from another model says so', async () => {
    expect(parseModelTag('a-b@1.2.3')).toEqual({ id: 'a-b', version: '1.2.3' });
    expect(parseModelTag('nover')).toBeNull();
    const { controller } = await started('?seed=1&model=other-model@2.0.0');
    expect(controller.snapshot().errors).toEqual([
      modelMismatch(
        { id: 'other-model', version: '2.0.0' },
        { id: 'fake-model', version: '0.0.1' },
        'link',
      ),
    ]);
    expect(controller.snapshot().errors[0]).toMatch(/link was made with model other-model@2\.0\.0/);
    const same = await started('?seed=1&model=fake-model@0.0.1');
    expect(same.controller.snapshot().errors).toEqual([]);
  });

  it('labelsChecksum tells label maps apart', () => {
    const a = Int16Array.from([0, 2, 41, 701]);
    expect(labelsChecksum(a)).toBe(labelsChecksum(Int16Array.from(a)));
    expect(labelsChecksum(a)).not.toBe(labelsChecksum(Int16Array.from([0, 2, 41, 702])));
    expect(labelsChecksum(a)).toMatch(/^[0-9a-f]{8}$/);
  });
});
