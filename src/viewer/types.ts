/**
 * What the UI needs from a viewer. `Viewer` (NiiVue) implements it; tests use fakes, so nothing
 * here imports NiiVue (WebGL is absent in jsdom).
 */
import type { LabelInfo, SampledVolume } from '../engine/types';

export interface CursorInfo {
  /** World position, RAS mm. */
  mm: [number, number, number];
  /** Image intensity at the cursor. */
  intensity: number | null;
  /** Label value at the cursor (null when no label map is shown). */
  label: number | null;
  /** Structure name from the label table ('' when none). */
  name: string;
}

export interface UserVolume {
  dims: number[];
  affine: number[][];
  data: ArrayLike<number>;
}

/** What the viewer currently shows (for status read-outs and tests). */
export interface ViewState {
  /** Crosshair, RAS mm. */
  crosshairMm: [number, number, number];
  /** Display window of the image [min, max] (window/level). */
  window: [number, number] | null;
  radiological: boolean;
  /** Grid of the image on screen [nx, ny, nz] and its voxel size in mm (null when empty). */
  dims: [number, number, number] | null;
  spacing: [number, number, number] | null;
}

export interface ViewerLike {
  /** Show a generated volume with its label overlay; swaps data in place when the grid matches. */
  showVolume(vol: SampledVolume, labels: LabelInfo[]): Promise<void>;
  /** Show a user's image (no label overlay). */
  showUserVolume(vol: UserVolume, name: string): Promise<void>;
  setOverlayVisible(on: boolean): void;
  setOverlayOpacity(opacity: number): void;
  setRadiological(radiological: boolean): void;
  /**
   * A new volume is on its way (a sample was requested): postpone work deferred to idle time
   * (the 3D pane on software GL) so that it does not hold up the swap.
   */
  expectVolume?(): void;
  /** Set the image's display window [min, max] (window/level). */
  setWindow?(min: number, max: number): void;
  /** Move the crosshair to a world position (RAS mm); views follow. */
  moveTo(mm: [number, number, number]): void;
  onCursor(cb: (info: CursorInfo) => void): void;
  viewState(): ViewState;
  /** PNG data URL of the current canvas. */
  screenshot(): string;
  /** Make this viewer drive `others` (crosshair, pan/zoom, 3D angle); [] unlinks. */
  linkWith?(others: ViewerLike[]): void;
  dispose(): void;
}
