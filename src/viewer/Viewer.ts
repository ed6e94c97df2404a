/**
 * One NiiVue (pinned 0.69.0) instance on a canvas: image + label overlay in three planes and a
 * 3D render. No React here.
 *
 * - Volumes are built in memory as NIfTI buffers (NVImage.createNiftiArray) and loaded with
 *   NVImage.loadFromUrl({ buffer }).
 * - A new sample on the same grid is swapped IN PLACE (voxel arrays replaced, updateGLVolume):
 *   crosshair, zoom, 3D view and the user's window/level stay, and nothing flickers.
 * - Window/level: NiiVue's default right-drag (DRAG_MODE.contrast).
 * - Software GL (SwiftShader, llvmpipe): a swap uploads only the layers whose voxels changed and
 *   skips what only the 3D pane needs (its ray-cast and the volume's gradient texture, ~0.25 s
 *   each); both follow once the viewer is idle. NiiVue's per-layer orientation pass (a draw per
 *   slice, 60–90 ms a layer there) is replaced by the same RGBA volume computed on the CPU
 *   (cpuLayers.ts) and uploaded (`orientOnCpu`).
 */
import { MULTIPLANAR_TYPE, NVImage, Niivue, SHOW_RENDER } from '@niivue/niivue';
import type { LabelInfo, SampledVolume } from '../engine/types';
import { imageLayerRgba, labelLayerRgba } from './cpuLayers';
import { labelColormap, labelNames } from './labelColormap';
import type { CursorInfo, UserVolume, Vec3, ViewState, ViewerLike } from './types';

const DT_INT16 = 4;
/** NiiVue's slice type of the axial tile (SLICE_TYPE.AXIAL). */
const AXIAL = 0;
/** A press and release closer than this (CSS px) is a click, not a drag. */
const CLICK_PX = 3;
const DT_FLOAT32 = 16;
const NIFTI_INTENT_LABEL = 1002;

/** Delay before the deferred 3D render on software GL (a slider burst pays for it once). */
const IDLE_3D_MS = 400;
/** While a requested sample is on its way, the deferred 3D render waits this long at most. */
const EXPECTING_3D_MS = 3000;

const SOFTWARE_GL_RE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** Whether the context renders in software (from the unmasked renderer string when exposed). */
function isSoftwareGl(gl: WebGL2RenderingContext | null): boolean {
  if (!gl) return false;
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(
      ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
    );
    return SOFTWARE_GL_RE.test(renderer);
  } catch {
    return false;
  }
}

/** Whether `a` holds the same voxel values as `b` (same length, equal element by element). */
function sameVoxels(a: ArrayLike<number> | null | undefined, b: ArrayLike<number>): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Benchmark hook: a named timestamp in `__brainsynthPerf.marks` when the page defines it. */
function perfMark(name: string): void {
  const perf = (globalThis as { __brainsynthPerf?: { marks?: [string, number][] } })
    .__brainsynthPerf;
  perf?.marks?.push([name, performance.now()]);
}

function flatAffine(a: number[][]): number[] {
  return [...a[0], ...a[1], ...a[2], ...(a[3] ?? [0, 0, 0, 1])];
}

function voxelSizes(a: number[][]): number[] {
  return [0, 1, 2].map((j) => Math.hypot(a[0][j], a[1][j], a[2][j]));
}

/** Whether a 4×4 matrix (NiiVue's toRAS, flat or nested) is the identity. */
function isIdentity(m: ArrayLike<number> | number[][] | null | undefined): boolean {
  if (!m) return false;
  const flat =
    Array.isArray(m) && Array.isArray(m[0])
      ? (m as number[][]).flat()
      : Array.from(m as ArrayLike<number>);
  if (flat.length !== 16) return false;
  return flat.every((v, i) => v === (i % 5 === 0 ? 1 : 0));
}

function sameGrid(img: NVImage, dims: number[], affine: number[][]): boolean {
  const d = img.hdr?.dims;
  if (!d || d[1] !== dims[0] || d[2] !== dims[1] || d[3] !== dims[2]) return false;
  const a = img.hdr!.affine;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 4; j++) if (Math.abs(a[i][j] - affine[i][j]) > 1e-4) return false;
  return true;
}

/** Set an image's display window when one is given (finite, max > min). */
function applyWindow(image: NVImage, w: [number, number] | null | undefined): void {
  if (!w || !Number.isFinite(w[0]) || !Number.isFinite(w[1]) || !(w[1] > w[0])) return;
  image.cal_min = w[0];
  image.cal_max = w[1];
}

async function imageFromArray(
  name: string,
  dims: number[],
  affine: number[][],
  datatype: number,
  data: Float32Array | Int16Array,
  colormap: string,
): Promise<NVImage> {
  const bytes = NVImage.createNiftiArray(
    dims.slice(0, 3),
    voxelSizes(affine),
    flatAffine(affine),
    datatype,
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return NVImage.loadFromUrl({ url: name, name, buffer: buffer as ArrayBuffer, colormap });
}

export interface ViewerOptions {
  /** Crosshair RGBA, 0..1. */
  crosshairColor?: number[];
}

export class Viewer implements ViewerLike {
  readonly nv: Niivue;
  private image: NVImage | null = null;
  private labels: NVImage | null = null;
  private names = new Map<number, string>();
  private labelTable: LabelInfo[] | null = null;
  private contrast: string | null = null;
  private overlayOn = true;
  private overlayOpacity = 0.3;
  private cursorCb: ((info: CursorInfo) => void) | null = null;
  private busy: Promise<void> = Promise.resolve();
  /** Software GL (SwiftShader, llvmpipe): the 3D pane is re-rendered on idle, not per sample. */
  private readonly softwareGl: boolean;
  private skip3D = false;
  private idle3D: ReturnType<typeof setTimeout> | null = null;
  /** The gradient texture (3D lighting only) is stale: a swap on software GL skipped it. */
  private gradientStale = false;
  /** Brain only in the 3D render (setBrainOnly3D); the extra-cerebral label range. */
  private brainOnly = false;
  private extraCerebral: [number, number] | null = null;
  private pickCb: ((start: Vec3 | null, end: Vec3 | null) => void) | null = null;
  private pickStart: { x: number; y: number; mm: Vec3 | null } | null = null;
  /** The layer NiiVue is refreshing (refreshLayers), for the orientation pass on the CPU. */
  private refreshing: { item: NVImage; layer: number } | null = null;
  /** The output texture of the current orientation pass, filled on the CPU (its draws skipped). */
  private cpuFilled: WebGLTexture | null = null;
  /** The orientation pass on the CPU where it applies (software GL; off: NiiVue's own pass). */
  cpuOrientation = true;
  /** Reused RGBA buffers of the CPU orientation pass, per layer. */
  private rgba: Uint8Array[] = [];
  private readonly onPointerDown = (e: PointerEvent) => this.pointerDown(e);
  private readonly onPointerUp = (e: PointerEvent) => this.pointerUp(e);

  private constructor(nv: Niivue) {
    this.nv = nv;
    this.softwareGl = isSoftwareGl(nv.gl as WebGL2RenderingContext | null);
    // The 3D ray-cast costs ~250 ms per frame on a software rasteriser (the 2D panes ~30 ms):
    // there, while a new sample is swapped in, NiiVue's draw3D is skipped and the full scene is
    // drawn once the viewer is idle (IDLE_3D_MS after the last swap). On every GL, "brain
    // only" leaves the head image out of the render pass (its opacity in the render shader
    // only; the 2D slices keep it), so the render shows the labelled brain.
    const draw3D = nv.draw3D.bind(nv);
    nv.draw3D = (...args: Parameters<Niivue['draw3D']>) => {
      if (this.softwareGl && this.skip3D) return undefined;
      this.applyRenderBackOpacity();
      return draw3D(...args);
    };
    const gl = nv.gl as WebGL2RenderingContext | null;
    if (this.softwareGl && gl) {
      this.skipGradientPasses(gl);
      this.orientOnCpu(gl);
    }
  }

  /** The head image's opacity in the 3D render pass: 0 when the brain only is shown. */
  private applyRenderBackOpacity(): void {
    const shader = this.nv.renderShader;
    const gl = this.nv.gl as WebGL2RenderingContext | null;
    const back = this.nv.volumes[0];
    if (!shader || !gl || !back) return;
    const loc = shader.uniforms.backOpacity;
    if (loc === undefined) return;
    shader.use(gl);
    gl.uniform1f(loc, this.brainOnlyActive() ? 0 : back.opacity);
  }

  /** Brain only needs the label overlay on screen (the render then draws the labels). */
  private brainOnlyActive(): boolean {
    return this.brainOnly && this.labels !== null && this.overlayOn && this.overlayOpacity > 0;
  }

  /**
   * NiiVue 0.69 recomputes the background's gradient texture (a blur and a Sobel pass over the
   * whole volume, ~0.2–0.3 s on a software rasteriser) in every layer refresh, with no option to
   * skip it, though only the 3D render reads it. While a swap runs without the 3D pane, the draws
   * of those two shader programs are dropped (their texture is allocated but left empty); the
   * idle 3D render computes the gradient first (`nv.gradientGL`).
   */
  private skipGradientPasses(gl: WebGL2RenderingContext): void {
    const nv = this.nv as unknown as Record<string, { program?: WebGLProgram } | undefined>;
    const programs = new Set<WebGLProgram>();
    for (const key of [
      'blurShader',
      'gradientPrePassShader',
      'sobelFirstOrderShader',
      'sobelSecondOrderShader',
    ]) {
      const p = nv[key]?.program;
      if (p) programs.add(p);
    }
    if (programs.size === 0) return;
    let current: WebGLProgram | null = null;
    const bindProgram = gl.useProgram.bind(gl);
    const drawArrays = gl.drawArrays.bind(gl);
    const checkStatus = gl.checkFramebufferStatus.bind(gl);
    const skipping = () => this.skip3D && current !== null && programs.has(current);
    gl.useProgram = (program: WebGLProgram | null) => {
      current = program;
      bindProgram(program);
    };
    gl.drawArrays = (mode: GLenum, first: GLint, count: GLsizei) => {
      if (skipping()) {
        this.gradientStale = true;
        return;
      }
      drawArrays(mode, first, count);
    };
    // a status query is a round trip to the GPU process; NiiVue asks once per slice
    gl.checkFramebufferStatus = (target: GLenum) =>
      skipping() ? gl.FRAMEBUFFER_COMPLETE : checkStatus(target);
  }

  /**
   * NiiVue 0.69 makes each layer's RGBA volume with an orientation pass: one draw per slice into
   * a 3-D texture (~60–90 ms per layer on a software rasteriser, most of a swap). For the layers
   * this viewer shows — the float image and the int16 label map on the same RAS grid, with the
   * shader's defaults — the same RGBA volume is computed on the CPU (cpuLayers.ts, a few ms) and
   * uploaded into the pass's output texture, whose draws are then skipped. Anything else (another
   * grid, a negative colormap, an outline, …) runs NiiVue's pass as before.
   */
  private orientOnCpu(gl: WebGL2RenderingContext): void {
    const nv = this.nv as unknown as {
      refreshLayers(item: NVImage, layer: number): void;
      orientShaderF?: { program?: WebGLProgram };
      orientShaderAtlasI?: { program?: WebGLProgram };
    };
    const imageProgram = nv.orientShaderF?.program;
    const labelProgram = nv.orientShaderAtlasI?.program;
    if (!imageProgram || !labelProgram) return;
    const refresh = nv.refreshLayers.bind(nv);
    nv.refreshLayers = (item: NVImage, layer: number) => {
      this.refreshing = { item, layer };
      try {
        refresh(item, layer);
      } finally {
        this.refreshing = null;
        this.cpuFilled = null;
      }
    };
    let current: WebGLProgram | null = null;
    const bindProgram = gl.useProgram.bind(gl);
    const attachLayer = gl.framebufferTextureLayer.bind(gl);
    const drawArrays = gl.drawArrays.bind(gl);
    gl.useProgram = (program: WebGLProgram | null) => {
      current = program;
      bindProgram(program);
    };
    const inPass = () =>
      this.refreshing !== null && (current === imageProgram || current === labelProgram);
    gl.framebufferTextureLayer = (
      target: GLenum,
      attachment: GLenum,
      texture: WebGLTexture | null,
      level: GLint,
      layer: GLint,
    ) => {
      if (inPass() && texture) {
        if (this.cpuFilled === texture) return;
        if (this.cpuFilled === null && this.fillOnCpu(gl, texture, current === labelProgram)) {
          this.cpuFilled = texture;
          return;
        }
      }
      attachLayer(target, attachment, texture, level, layer);
    };
    gl.drawArrays = (mode: GLenum, first: GLint, count: GLsizei) => {
      if (this.cpuFilled !== null && inPass()) return;
      drawArrays(mode, first, count);
    };
  }

  /** Compute the refreshing layer's RGBA volume and upload it into `texture`, if it qualifies. */
  private fillOnCpu(gl: WebGL2RenderingContext, texture: WebGLTexture, labels: boolean): boolean {
    const r = this.refreshing;
    if (!r || !this.cpuOrientation) return false;
    const { item, layer } = r;
    const hdr = item.hdr;
    const back = this.nv.volumes[0];
    if (!hdr || !back?.hdr || !item.img) return false;
    const d = hdr.dims;
    const dims: [number, number, number] = [d[1], d[2], d[3]];
    const bd = back.hdr.dims;
    if (bd[1] !== dims[0] || bd[2] !== dims[1] || bd[3] !== dims[2]) return false;
    if (!isIdentity(item.toRAS) || !isIdentity(back.toRAS)) return false;
    const n = dims[0] * dims[1] * dims[2];
    const out = (this.rgba[layer] =
      this.rgba[layer]?.length === n * 4 ? this.rgba[layer] : new Uint8Array(n * 4));
    const opacity = item.opacity ?? 1;
    const opts = this.nv.opts as { atlasOutline?: number; atlasActiveIndex?: number };
    if (labels) {
      const lut = item.colormapLabel?.lut;
      if (
        layer < 1 ||
        hdr.datatypeCode !== DT_INT16 ||
        hdr.intent_code !== NIFTI_INTENT_LABEL ||
        !lut ||
        lut.length <= 7 ||
        (opts.atlasOutline ?? 0) !== 0 ||
        ((opts.atlasActiveIndex ?? 0) | 0) !== 0
      )
        return false;
      labelLayerRgba(item.img as Int16Array, dims, lut, opacity, out);
    } else {
      const negative = (item as { colormapNegative?: string }).colormapNegative;
      if (
        layer !== 0 ||
        hdr.datatypeCode !== DT_FLOAT32 ||
        (item.colormapType ?? 0) !== 0 ||
        (negative !== undefined && negative.length > 0) ||
        (item as { modulationImage?: unknown }).modulationImage != null ||
        item.cal_min === undefined ||
        item.cal_max === undefined
      )
        return false;
      const lut = this.nv.colormap(item.colormap, item.colormapInvert);
      if (lut.length !== 1024) return false;
      const slope = Number.isFinite(hdr.scl_slope) ? hdr.scl_slope : 1;
      const inter = Number.isFinite(hdr.scl_inter) ? hdr.scl_inter : 0;
      imageLayerRgba(
        item.img as Float32Array,
        item.cal_min,
        item.cal_max,
        lut,
        opacity,
        slope,
        inter,
        out,
      );
    }
    // upload on a texture unit NiiVue does not use, then restore the active unit
    const active = gl.getParameter(gl.ACTIVE_TEXTURE) as GLenum;
    gl.activeTexture(gl.TEXTURE15);
    gl.bindTexture(gl.TEXTURE_3D, texture);
    gl.texSubImage3D(
      gl.TEXTURE_3D,
      0,
      0,
      0,
      0,
      dims[0],
      dims[1],
      dims[2],
      gl.RGBA,
      gl.UNSIGNED_BYTE,
      out,
    );
    gl.bindTexture(gl.TEXTURE_3D, null);
    gl.activeTexture(active);
    return true;
  }

  static async create(canvas: HTMLCanvasElement, opts: ViewerOptions = {}): Promise<Viewer> {
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: opts.crosshairColor ?? [0.15, 0.75, 1, 0.9],
      show3Dcrosshair: true,
      isColorbar: false,
      isOrientCube: false,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      multiplanarLayout: MULTIPLANAR_TYPE.GRID,
      // room between tiles: the orientation letters at touching edges read "RP" otherwise
      multiplanarPadPixels: 18,
      // in mm, not voxels: the same line on the 2 mm and the 1 mm grid (0.35 voxel of 1 mm
      // rasterises to nothing in software GL)
      crosshairWidth: 0.7,
      crosshairWidthUnit: 'mm',
      crosshairGap: 6,
      showAllOrientationMarkers: true,
      clipPlaneColor: [0, 0, 0, 0],
      dragAndDropEnabled: false, // files go through the app's validated "Open NIfTI…" path
      loadingText: '',
      logLevel: 'warn',
    });
    await nv.attachToCanvas(canvas);
    nv.setSliceType(nv.sliceTypeMultiplanar);
    const viewer = new Viewer(nv);
    nv.onLocationChange = (loc) => viewer.handleLocation(loc);
    return viewer;
  }

  /** Serialise volume changes: a second call waits for the first to finish. */
  private queue(task: () => Promise<void>): Promise<void> {
    const next = this.busy.then(task, task);
    this.busy = next.catch(() => undefined);
    return next;
  }

  showVolume(
    vol: SampledVolume,
    labels: LabelInfo[],
    window?: () => [number, number] | null,
  ): Promise<void> {
    return this.queue(async () => {
      perfMark('viewer');
      const contrast = vol.metadata?.conditions?.contrast ?? null;
      const newTable = labels !== this.labelTable;
      if (newTable) {
        this.labelTable = labels;
        this.names = labelNames(labels);
      }
      if (this.image && this.labels && sameGrid(this.image, vol.dims, vol.affine)) {
        this.swapInPlace(vol, contrast !== this.contrast, newTable, window);
      } else {
        await this.replaceAll(vol, window);
      }
      this.contrast = contrast;
      this.applyOverlay();
      this.nv.createOnLocationChange();
      this.markDrawn();
    });
  }

  /**
   * Benchmark hook (bench/app.ts): when the page defines `__brainsynthPerf`, read one pixel
   * back after the draw, so that the recorded time includes the (software) GL work, and log it.
   */
  private markDrawn(): void {
    const perf = (globalThis as { __brainsynthPerf?: { draws: number[] } }).__brainsynthPerf;
    if (!perf) return;
    const gl = this.nv.gl as WebGL2RenderingContext | null;
    gl?.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    perf.draws.push(performance.now());
  }

  private swapInPlace(
    vol: SampledVolume,
    newContrast: boolean,
    newTable: boolean,
    window?: () => [number, number] | null,
  ): void {
    const image = this.image!;
    const labels = this.labels!;
    const keepWindow = !newContrast && image.cal_min !== undefined && image.cal_max !== undefined;
    image.img = Float32Array.from(vol.image);
    // Same contrast: the user's window/level is kept, so the display range is not recomputed
    // (calMinMax scans and sorts the volume). A new contrast gets the caller's window, or its
    // own robust range.
    if (!keepWindow) {
      image.calMinMax();
      applyWindow(image, window?.());
    }
    const sameLabels = !newTable && sameVoxels(labels.img, vol.labels);
    if (!sameLabels) labels.img = Int16Array.from(vol.labels);
    if (this.labelTable && !sameLabels) labels.setColormapLabel(this.colormap(this.labelTable));
    this.without3D(() => {
      if (!sameLabels) {
        this.nv.updateGLVolume();
        return;
      }
      // Only the image changed (e.g. another contrast of the same brain): refresh its layer
      // alone; the label overlay's texture stays as it is.
      const idx = this.nv.volumes.indexOf(image);
      if (idx !== 0) {
        this.nv.updateGLVolume();
        return;
      }
      this.nv.refreshLayers(image, 0);
      this.nv.drawScene();
    });
  }

  /** Run a NiiVue update; on software GL without its 3D render, which follows on idle. */
  private without3D(update: () => void): void {
    if (!this.softwareGl) {
      update();
      return;
    }
    this.skip3D = true;
    try {
      update();
    } finally {
      this.skip3D = false;
    }
    this.schedule3D();
  }

  expectVolume(): void {
    // the swap re-arms the idle render; a request that never arrives still gets it later
    if (this.idle3D) this.schedule3D(EXPECTING_3D_MS);
  }

  /**
   * Draw the full scene (with the 3D pane) once no new sample arrived for IDLE_3D_MS: first the
   * gradient texture the swaps skipped, then, in a task of its own (so an input in between is
   * not held up by both), the scene.
   */
  private schedule3D(delayMs = IDLE_3D_MS): void {
    if (this.idle3D) clearTimeout(this.idle3D);
    this.idle3D = setTimeout(() => {
      this.idle3D = null;
      const hdr = this.nv.volumes[0]?.hdr;
      if (this.gradientStale && hdr) {
        this.gradientStale = false;
        this.nv.gradientGL(hdr);
        this.idle3D = setTimeout(() => {
          this.idle3D = null;
          this.nv.drawScene();
        }, 0);
        return;
      }
      this.nv.drawScene();
    }, delayMs);
  }

  private async replaceAll(
    vol: SampledVolume,
    window?: () => [number, number] | null,
  ): Promise<void> {
    const image = await imageFromArray(
      'brainsynth_image.nii',
      vol.dims,
      vol.affine,
      DT_FLOAT32,
      Float32Array.from(vol.image),
      'gray',
    );
    const labels = await imageFromArray(
      'brainsynth_labels.nii',
      vol.dims,
      vol.affine,
      DT_INT16,
      Int16Array.from(vol.labels),
      'gray',
    );
    applyWindow(image, window?.());
    // NIFTI_INTENT_LABEL: NiiVue then uses its atlas shader (exact value → colour lookup)
    labels.hdr!.intent_code = NIFTI_INTENT_LABEL;
    if (this.labelTable) labels.setColormapLabel(this.colormap(this.labelTable));
    labels.opacity = this.overlayOn ? this.overlayOpacity : 0;
    // Both layers in one upload: removeVolume + addVolume twice + setOpacity would upload the
    // image three times and the labels twice (seconds for a 1 mm grid in software GL).
    this.nv.volumes = [image, labels];
    this.without3D(() => this.nv.setVolume(image, 0)); // sets back/overlays, one updateGLVolume
    this.image = image;
    this.labels = labels;
  }

  /** The label colormap; with brain only, extra-cerebral labels and CSF are transparent. */
  private colormap(table: LabelInfo[]) {
    const range = this.extraCerebral;
    if (!this.brainOnly || !range) return labelColormap(table);
    const csf = new Set(table.filter((l) => l.group === 'csf').map((l) => l.value));
    return labelColormap(table, (v) => (v >= range[0] && v <= range[1]) || csf.has(v));
  }

  setBrainOnly3D(on: boolean, extraCerebral: [number, number]): void {
    if (on === this.brainOnly && extraCerebral === this.extraCerebral) return;
    this.brainOnly = on;
    this.extraCerebral = extraCerebral;
    if (this.labels && this.labelTable) {
      this.labels.setColormapLabel(this.colormap(this.labelTable));
      this.nv.updateGLVolume();
    } else this.nv.drawScene();
  }

  onPick(cb: ((start: Vec3 | null, end: Vec3 | null) => void) | null): void {
    const canvas = this.nv.canvas;
    this.pickCb = cb;
    this.pickStart = null;
    if (!canvas) return;
    canvas.removeEventListener('pointerdown', this.onPointerDown);
    canvas.removeEventListener('pointerup', this.onPointerUp);
    if (cb) {
      canvas.addEventListener('pointerdown', this.onPointerDown);
      canvas.addEventListener('pointerup', this.onPointerUp);
    }
  }

  /** RAS mm under a canvas point (CSS px), or null outside every 2D slice. */
  private mmAt(x: number, y: number): Vec3 | null {
    if (this.nv.volumes.length === 0) return null;
    const dpr = this.nv.uiData.dpr ?? 1;
    const frac = this.nv.canvasPos2frac([x * dpr, y * dpr]);
    if (!(frac[0] >= 0)) return null;
    const mm = this.nv.frac2mm(frac);
    return [mm[0], mm[1], mm[2]];
  }

  private pointerDown(e: PointerEvent): void {
    if (e.button !== 0 || !this.pickCb) return;
    this.pickStart = { x: e.offsetX, y: e.offsetY, mm: this.mmAt(e.offsetX, e.offsetY) };
  }

  private pointerUp(e: PointerEvent): void {
    const start = this.pickStart;
    this.pickStart = null;
    if (e.button !== 0 || !start || !this.pickCb) return;
    const moved = Math.hypot(e.offsetX - start.x, e.offsetY - start.y) > CLICK_PX;
    this.pickCb(start.mm, moved ? this.mmAt(e.offsetX, e.offsetY) : start.mm);
  }

  canvasPoint(mm: Vec3): [number, number] | null {
    if (this.nv.volumes.length === 0) return null;
    const hit = this.nv.frac2canvasPosWithTile(this.nv.mm2frac(mm), AXIAL) as {
      pos?: number[];
    } | null;
    if (!hit?.pos) return null;
    const dpr = this.nv.uiData.dpr ?? 1;
    return [hit.pos[0] / dpr, hit.pos[1] / dpr];
  }

  private removeAll(): void {
    for (const v of [...this.nv.volumes]) this.nv.removeVolume(v);
    this.image = null;
    this.labels = null;
  }

  showUserVolume(vol: UserVolume, name: string): Promise<void> {
    return this.queue(async () => {
      const dims = [...vol.dims.slice(0, 3), 1, 1, 1].slice(0, 3);
      const nvox = dims[0] * dims[1] * dims[2];
      // first 3D frame only, as float32 (the engine's parser already applied scl_slope/inter)
      const data =
        vol.data instanceof Float32Array && vol.data.length === nvox
          ? vol.data
          : Float32Array.from({ length: nvox }, (_, i) => vol.data[i]);
      const image = await imageFromArray(name, dims, vol.affine, DT_FLOAT32, data, 'gray');
      this.removeAll();
      this.nv.addVolume(image);
      this.image = image;
      this.contrast = null;
      this.nv.createOnLocationChange();
    });
  }

  private applyOverlay(): void {
    const idx = this.labels ? this.nv.volumes.indexOf(this.labels) : -1;
    const opacity = this.overlayOn ? this.overlayOpacity : 0;
    // setOpacity re-uploads every layer: only when the value changes
    if (idx >= 0 && this.nv.volumes[idx].opacity !== opacity) this.nv.setOpacity(idx, opacity);
  }

  setOverlayVisible(on: boolean): void {
    this.overlayOn = on;
    this.applyOverlay();
  }

  setOverlayOpacity(opacity: number): void {
    this.overlayOpacity = opacity;
    this.applyOverlay();
  }

  setRadiological(radiological: boolean): void {
    if (this.nv.opts.isRadiologicalConvention !== radiological)
      this.nv.setRadiologicalConvention(radiological);
  }

  setWindow(min: number, max: number): void {
    const img = this.image;
    if (!img || !(max > min)) return;
    img.cal_min = min;
    img.cal_max = max;
    this.nv.updateGLVolume();
  }

  moveTo(mm: [number, number, number]): void {
    if (this.nv.volumes.length === 0) return;
    this.nv.scene.crosshairPos = this.nv.mm2frac(mm);
    this.nv.drawScene();
    this.nv.createOnLocationChange();
  }

  onCursor(cb: (info: CursorInfo) => void): void {
    this.cursorCb = cb;
  }

  private handleLocation(loc: unknown): void {
    if (!this.cursorCb) return;
    const l = loc as {
      mm?: ArrayLike<number>;
      values?: { id: string; value: number }[];
    };
    const values = l.values ?? [];
    const find = (img: NVImage | null) =>
      img ? values.find((v) => v.id === img.id)?.value : undefined;
    const intensity = find(this.image);
    const rawLabel = find(this.labels);
    const label =
      rawLabel === undefined || !Number.isFinite(rawLabel) ? null : Math.round(rawLabel);
    const mm = l.mm ? [l.mm[0], l.mm[1], l.mm[2]] : [0, 0, 0];
    this.cursorCb({
      mm: mm as [number, number, number],
      intensity: intensity === undefined || !Number.isFinite(intensity) ? null : intensity,
      label,
      name: label === null ? '' : (this.names.get(label) ?? `label ${label}`),
    });
  }

  viewState(): ViewState {
    const mm = this.nv.volumes.length > 0 ? this.nv.frac2mm(this.nv.scene.crosshairPos) : [0, 0, 0];
    const img = this.image;
    const d = img?.hdr?.dims;
    const p = img?.hdr?.pixDims;
    return {
      crosshairMm: [mm[0], mm[1], mm[2]],
      window: img && Number.isFinite(img.cal_min) ? [img.cal_min!, img.cal_max!] : null,
      radiological: this.nv.opts.isRadiologicalConvention,
      dims: d ? [d[1], d[2], d[3]] : null,
      spacing: p ? [p[1], p[2], p[3]] : null,
      brainOnly3D: this.brainOnlyActive(),
      renderTile: this.renderTile(),
    };
  }

  private renderTile(): [number, number, number, number] | null {
    const RENDER = 4; // NiiVue's axCorSag of the 3D render tile
    const t = this.nv.screenSlices.find((s) => s.axCorSag === RENDER)?.leftTopWidthHeight;
    return t && t.length === 4 ? [t[0], t[1], t[2], t[3]] : null;
  }

  screenshot(): string {
    this.nv.drawScene();
    return this.nv.canvas?.toDataURL('image/png') ?? '';
  }

  /**
   * Make this viewer drive `others` (crosshair, pan/zoom, 3D angle: NiiVue's broadcastTo).
   * Link viewers both ways by calling it on each; an empty list unlinks. Only NiiVue viewers
   * can follow (anything else in the list is skipped).
   */
  linkWith(others: ViewerLike[]): void {
    const nvs = others
      .filter((o): o is Viewer => o instanceof Viewer && o !== this)
      .map((o) => o.nv);
    this.nv.broadcastTo(nvs, { '2d': true, '3d': true });
  }

  dispose(): void {
    if (this.idle3D) clearTimeout(this.idle3D);
    this.idle3D = null;
    this.cursorCb = null;
    this.onPick(null);
    this.removeAll();
    // NiiVue 0.69 has no full teardown API; dropping the volumes and the context is enough.
    const gl = this.nv.gl as WebGL2RenderingContext | null;
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  }
}
