/**
 * What the UI needs from a viewer. `Viewer` (NiiVue) implements it; tests use fakes, so nothing
 * here imports NiiVue (WebGL is absent in jsdom).
 */
import type { LabelInfo, SampledVolume } from '../engine/types';

export type Vec3 = [number, number, number];

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
  /** Whether the 3D render leaves the head out and shows the labelled brain. */
  brainOnly3D: boolean;
  /** The 3D render's tile on the canvas [left, top, width, height] in canvas pixels, or null. */
  renderTile: [number, number, number, number] | null;
}

export interface ViewerLike {
  /**
   * Show a generated volume with its label overlay; swaps data in place when the grid matches.
   * `window` gives the display window [min, max] to start from when the window is not kept (a
   * new contrast or a new grid; the user's window/level is kept otherwise); absent or null:
   * NiiVue's robust range.
   */
  showVolume(
    vol: SampledVolume,
    labels: LabelInfo[],
    window?: () => [number, number] | null,
  ): Promise<void>;
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
  /**
   * "Place" mode: `cb` gets each primary-button press-and-release in an image slice as RAS mm
   * (start: where the button went down; end: where it came up, null when outside a slice; a
   * press outside every 2D slice gives start null). null ends it.
   */
  onPick?(cb: ((start: Vec3 | null, end: Vec3 | null) => void) | null): void;
  /** Canvas point (CSS px from its top-left) of a position in mm on the axial slice, or null. */
  canvasPoint?(mm: Vec3): [number, number] | null;
  /**
   * The 3D render shows the brain only (the labelled brain: extra-cerebral labels in
   * `extraCerebral` [min, max] and CSF are not drawn, the head image is left out of the render)
   * or the whole head. The 2D slices keep the full image.
   */
  setBrainOnly3D?(on: boolean, extraCerebral: [number, number]): void;
  /** Make this viewer drive `others` (crosshair, pan/zoom, 3D angle); [] unlinks. */
  linkWith?(others: ViewerLike[]): void;
  dispose(): void;
}
