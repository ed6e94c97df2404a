/**
 * Entry point. Builds the controller (engine + viewer), exposes a small read-only test hook and
 * mounts React.
 *
 * window.__brainsynth (for end-to-end tests and debugging; read-only):
 *   .state         snapshot: status, backend, backendReason, lastSampleMs, samples, rendered,
 *                  error, model {id, version}, conditions, seed, keepSubject, errors (refusals),
 *                  viewer {overlay, opacity, radiological, cursor, userFile, fileError,
 *                          view {crosshairMm, window, radiological, dims, spacing} as NiiVue
 *                          shows it},
 *                  volume {dims, spacing, seed, conditions, regionalVolumesMl, labelsPresent, …}
 *                  fullSize {url, availability, device, phase, jobId, progress, stage, error,
 *                            showing: 'browser' | 'full-size', result {files, seconds, volume}}
 *   .screenshot()  PNG data URL of the viewer canvas
 *   .teach         teaching workflows: presentation, compare {layout, linked, views [...],
 *                  difference…}, timelapse {status, values, cached, index, value, playing,
 *                  measuredFps, shown…}, explain {status, region, hover, rows [...]}
 *   .screenshotOf(viewId)  PNG data URL of one view's canvas (compare)
 *   .canvasPoint(mm)  where a position (RAS mm) lies on the axial slice, canvas CSS px (Place)
 *   .batch         the batch export: {phase, total, done, error, fileName, subjects [...]}
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { realBackend } from './ui/backendApi';
import { AppController } from './ui/controller';
import { defaultModelUrl } from './ui/catalogue';
import { realEngine } from './ui/realEngine';
import { decodeInWorker } from './ui/uploadDecoder';
import { teachOf, type Teach } from './ui/teach';
import './ui/styles.css';

/** The model catalogue: the app loads its default model (catalogue.ts). */
const CATALOGUE_URL = `${import.meta.env.BASE_URL}models/index.json`;

const controller = new AppController({
  engine: realEngine,
  modelUrl: () => defaultModelUrl(CATALOGUE_URL),
  // NiiVue is large: load it in its own chunk while the UI and the sampler start
  createViewer: async (canvas) => (await import('./viewer')).Viewer.create(canvas),
  // optional full-size backend: ?backend_url= overrides VITE_BACKEND_URL (default :8000)
  backend: realBackend,
  backendUrl: import.meta.env.VITE_BACKEND_URL as string | undefined,
  // a user's NIfTI is decoded and prepared off the main thread
  decodeUpload: decodeInWorker,
});

declare global {
  interface Window {
    __brainsynth?: {
      readonly state: ReturnType<AppController['snapshot']>;
      screenshot(): string;
      readonly teach: ReturnType<Teach['snapshot']>;
      screenshotOf(viewId: string): string;
      canvasPoint(mm: [number, number, number]): [number, number] | null;
      readonly batch: ReturnType<AppController['batch']['snapshot']>;
    };
  }
}

window.__brainsynth = {
  get state() {
    return controller.snapshot();
  },
  screenshot: () => controller.screenshot(),
  get teach() {
    return teachOf(controller).snapshot();
  },
  canvasPoint: (mm: [number, number, number]) => controller.canvasPoint(mm),
  get batch() {
    return controller.batch.snapshot();
  },
  screenshotOf: (id: string) => {
    const view = controller.view(id);
    return view ? controller.screenshot(view) : '';
  },
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} />
  </StrictMode>,
);

void controller.start();
