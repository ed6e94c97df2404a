import { describe, expect, it } from 'vitest';
import { createReviewStore } from './reviewStore';

describe('reviewStore', () => {
  it('edits and removes a pending scan by key, and keeps 1–5 synthetic per real', () => {
    const store = createReviewStore();
    const file = new File([], 'a.nii');
    store.setState({
      pending: [
        { key: 'k1', name: 'a.nii', file, age: null, sex: '', contrast: 'T1w' },
        { key: 'k2', name: 'b.nii', file, age: null, sex: '', contrast: 'T1w' },
      ],
    });
    store.getState().updatePending('k1', { age: 70, sex: 'female' });
    expect(store.getState().pending[0]).toMatchObject({ age: 70, sex: 'female' });
    expect(store.getState().pending[1].age).toBeNull();
    store.getState().removePending('k2');
    expect(store.getState().pending.map((p) => p.key)).toEqual(['k1']);
    store.getState().setPerReal(9);
    expect(store.getState().perReal).toBe(5);
    store.getState().setPerReal(0);
    expect(store.getState().perReal).toBe(1);
  });
});
