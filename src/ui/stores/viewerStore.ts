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
  /** The 3D render shows the brain only (labelled, no scalp); the slices keep the full image. */
  brainOnly3D: boolean;
  /** "Place" mode: a click in a slice places the lesion of the current pathology (place.ts). */
  placeMode: boolean;
  /** What the last click in Place mode did, or why it was refused. */
  placeMessage: { ok: boolean; text: string } | null;
  setOverlay(on: boolean): void;
  setOpacity(opacity: number): void;
  setRadiological(radiological: boolean): void;
  setReview(review: boolean): void;
  setBrainOnly3D(on: boolean): void;
  setPlaceMode(on: boolean): void;
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
    brainOnly3D: true,
    placeMode: false,
    placeMessage: null,
    setOverlay: (overlay) => set({ overlay }),
    setOpacity: (opacity) => set({ opacity: Math.min(1, Math.max(0, opacity)) }),
    setRadiological: (radiological) => set({ radiological }),
    setReview: (review) => set({ review, radiological: review, overlay: !review }),
    setBrainOnly3D: (brainOnly3D) => set({ brainOnly3D }),
    setPlaceMode: (placeMode) => set({ placeMode, placeMessage: null }),
  }));
}
