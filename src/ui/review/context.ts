/**
 * The app's one ReviewController (per AppController), on IndexedDB storage, and a hook for
 * its store. Created on first use; it restores a saved session once the model is loaded.
 */
import { useStore } from 'zustand';
import { useController } from '../context';
import type { AppController } from '../controller';
import type { ReviewState } from '../stores/reviewStore';
import { idbStorage } from './idbStorage';
import { ReviewController } from './reviewController';
import type { ReviewStorage } from './storage';

const controllers = new WeakMap<AppController, ReviewController>();

export function reviewFor(app: AppController, storage?: ReviewStorage): ReviewController {
  let r = controllers.get(app);
  if (!r) {
    const review = new ReviewController({
      sample: (values, seed) => app.sampleOffView(values, seed),
      model: () => app.modelInfo(),
      decode: (bytes) => app.decodeFile(bytes),
      createViewer: (canvas) => app.createViewerOn(canvas),
      save: (blob, name) => app.saveFile(blob, name),
      storage: storage ?? idbStorage(),
    });
    r = review;
    controllers.set(app, review);
    // restore once the model is there (synthetic cases are regenerated with it)
    const tryRestore = () => {
      if (app.modelInfo()) {
        unsub();
        void review.restore();
        return true;
      }
      return false;
    };
    const unsub = app.engine.subscribe(() => void tryRestore());
    tryRestore();
  }
  return r;
}

export function useReview(): ReviewController {
  return reviewFor(useController());
}

export function useReviewState<T>(selector: (s: ReviewState) => T): T {
  return useStore(useReview().store, selector);
}
