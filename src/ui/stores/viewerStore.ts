/**
 * Viewer store: display settings (label overlay, opacity, L/R convention), what the cursor
 * points at, and whether a user's own file is on screen instead of the generated brain.
 */
import { createStore } from 'zustand/vanilla';
import type { CursorInfo } from '../../viewer/types';

export interface ViewerState {
  overlay: boolean;
  opacity: number;
  /** true: radiological (patient's left on screen right); false: neurological. */
  radiological: boolean;
  /**
   * Review mode: read the image as acquired — radiological convention, label overlay off.
   * Turning it off brings the overlay back (neurological); each stays a toggle of its own.
   */
  review: boolean;
  cursor: CursorInfo | null;
  /** Name of an uploaded file being shown, or null when the generated volume is shown. */
  userFile: string | null;
  /** What was done to show the uploaded file (downsampled, NaN shown as 0; upload.ts). */
  userFileNotes: string[];
  /** A file being decoded (in the upload worker), or null. */
  openingFile: string | null;
  fileError: string | null;
  setOverlay(on: boolean): void;
  setOpacity(opacity: number): void;
  setRadiological(radiological: boolean): void;
  setReview(review: boolean): void;
}

export type ViewerStore = ReturnType<typeof createViewerStore>;

export function createViewerStore() {
  return createStore<ViewerState>()((set) => ({
    overlay: true,
    opacity: 0.3,
    radiological: false,
    review: false,
    cursor: null,
    userFile: null,
    userFileNotes: [],
    openingFile: null,
    fileError: null,
    setOverlay: (overlay) => set({ overlay }),
    setOpacity: (opacity) => set({ opacity: Math.min(1, Math.max(0, opacity)) }),
    setRadiological: (radiological) => set({ radiological }),
    setReview: (review) => set({ review, radiological: review, overlay: !review }),
  }));
}
