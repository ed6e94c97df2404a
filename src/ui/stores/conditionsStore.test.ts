import { describe, expect, it } from 'vitest';
import { seedCounter } from '../testing/fakes';
import { createConditionsStore } from './conditionsStore';

function store() {
  const s = createConditionsStore(seedCounter(1000));
  s.getState().init({ age: 30, sex: 'female', pathology: 'none' }, 42);
  return s;
}

describe('conditionsStore', () => {
  it('keeps the subject (seed) when conditions change and keepSubject is on', () => {
    const s = store();
    expect(s.getState().keepSubject).toBe(true);
    s.getState().setCondition('age', 80);
    expect(s.getState().conditions.age).toBe(80);
    expect(s.getState().seed).toBe(42);
  });

  it('draws a new individual on every change when keepSubject is off', () => {
    const s = store();
    s.getState().setKeepSubject(false);
    s.getState().setCondition('age', 80);
    expect(s.getState().seed).toBe(1000);
    s.getState().setCondition('sex', 'male');
    expect(s.getState().seed).toBe(1001);
  });

  it('New subject always changes the seed', () => {
    const s = store();
    s.getState().newSubject();
    expect(s.getState().seed).toBe(1000);
    s.getState().newSubject();
    expect(s.getState().seed).toBe(1001);
  });

  it('ignores commits that change nothing (no duplicate samples)', () => {
    const s = store();
    let changes = 0;
    s.subscribe(() => changes++);
    s.getState().setCondition('age', 30);
    expect(changes).toBe(0);
    s.getState().setCondition('age', 31);
    s.getState().setCondition('age', 31);
    expect(changes).toBe(1);
  });

  it('keeps refusal messages until dismissed', () => {
    const s = createConditionsStore();
    s.getState().init({ age: 45 }, 1, ['age must be <= 90']);
    expect(s.getState().errors).toEqual(['age must be <= 90']);
    s.getState().dismissErrors();
    expect(s.getState().errors).toEqual([]);
  });

  it('only accepts uint32 seeds', () => {
    const s = store();
    s.getState().setSeed(-1);
    s.getState().setSeed(2 ** 32);
    s.getState().setSeed(1.5);
    expect(s.getState().seed).toBe(42);
    s.getState().setSeed(7);
    expect(s.getState().seed).toBe(7);
  });

  it('setConditions commits several values as one change (one request), keeping the subject', () => {
    const s = store();
    const seen: unknown[] = [];
    s.subscribe((st) => seen.push(st.conditions));
    s.getState().setConditions({ gliomaCenterXMm: -30, gliomaCenterYMm: 4 });
    expect(seen).toHaveLength(1);
    expect(s.getState().conditions).toMatchObject({ gliomaCenterXMm: -30, gliomaCenterYMm: 4 });
    expect(s.getState().seed).toBe(42);
    s.getState().setConditions({ gliomaCenterXMm: -30 }); // nothing new: no change
    expect(seen).toHaveLength(1);
  });
});
