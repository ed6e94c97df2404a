import { useEffect, useRef, type ReactNode } from 'react';
import { ViewContext, useController } from '../../context';
import type { ViewSession } from '../../view';
import { ConditionsPanel } from '../ConditionsPanel';
import { ViewerPanel } from '../ViewerPanel';
import { TimelapseBar } from './TimelapsePanel';
import { useCompare, useTeach, useTimelapse } from './useTeach';

/**
 * The main viewer's box: while a time-lapse is open it holds the overlay canvas that fast
 * playback draws on, and touching the viewer (pointer, wheel) stops the picture playback.
 */
function MainStageBox({ children }: { children: ReactNode }) {
  const tl = useTeach().timelapse;
  const active = useTimelapse((s) => s.active);
  const pictures = useTimelapse((s) => s.pictures);
  const box = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!active || !el) return;
    // a synchronous copy of the viewer's canvas (taken right after a frame is drawn)
    const capture = () => {
      const src = el.querySelector<HTMLCanvasElement>('canvas[data-testid="viewer-canvas"]');
      if (!src?.width || typeof OffscreenCanvas === 'undefined') return null;
      const copy = new OffscreenCanvas(src.width, src.height);
      const ctx = copy.getContext('2d');
      if (!ctx) return null;
      ctx.drawImage(src, 0, 0);
      return copy.transferToImageBitmap();
    };
    tl.attachOverlay(overlay.current, capture);
    const touched = () => tl.interacted();
    el.addEventListener('pointerdown', touched, true);
    el.addEventListener('wheel', touched, { capture: true, passive: true });
    const resized =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => tl.invalidatePictures());
    resized?.observe(el);
    return () => {
      el.removeEventListener('pointerdown', touched, true);
      el.removeEventListener('wheel', touched, true);
      resized?.disconnect();
      tl.attachOverlay(null);
    };
  }, [tl, active]);
  return (
    <div className="stage-box" ref={box}>
      {children}
      {active && (
        <canvas
          ref={overlay}
          className="timelapse-overlay"
          data-testid="timelapse-overlay"
          aria-hidden="true"
          hidden={!pictures}
        />
      )}
    </div>
  );
}

const NAMES = ['A', 'B', 'C', 'D'];

function ViewCell({ view, name, isMain }: { view: ViewSession; name: string; isMain: boolean }) {
  return (
    <ViewContext.Provider value={view}>
      <section className="view-cell" aria-label={`Viewer ${name}`} data-view={view.id}>
        <div className="view-head">
          <strong>{name}</strong>
          {isMain ? (
            <span className="muted">conditions: side panel</span>
          ) : (
            <details>
              <summary>Conditions of {name}</summary>
              <ConditionsPanel />
            </details>
          )}
        </div>
        {isMain ? (
          <MainStageBox>
            <ViewerPanel />
          </MainStageBox>
        ) : (
          <div className="stage-box">
            <ViewerPanel />
          </div>
        )}
      </section>
    </ViewContext.Provider>
  );
}

/**
 * The viewer area: one viewer, or the compare grid (2 or 4 views, plus the difference map),
 * with the time-lapse bar under the main viewer while a time-lapse is open.
 */
export function TeachStage() {
  const controller = useController();
  const ids = useCompare((s) => s.viewIds);
  const diffId = useCompare((s) => s.differenceViewId);
  const timelapse = useTimelapse((s) => s.active);
  const views = [controller.main, ...ids.flatMap((id) => controller.view(id) ?? [])];
  const diff = diffId ? controller.view(diffId) : undefined;
  if (views.length === 1)
    return (
      <div className="teach-stage">
        <MainStageBox>
          <ViewerPanel />
        </MainStageBox>
        {timelapse && <TimelapseBar />}
      </div>
    );
  const cells = views.length + (diff ? 1 : 0);
  return (
    <div className="teach-stage">
      <div className={`compare-grid cells-${cells}`} data-testid="compare-grid">
        {views.map((v, i) => (
          <ViewCell key={v.id} view={v} name={NAMES[i]} isMain={v === controller.main} />
        ))}
        {diff && (
          <ViewContext.Provider value={diff}>
            <section className="view-cell" aria-label="Difference A − B" data-view={diff.id}>
              <div className="view-head">
                <strong>A − B</strong>
                <span className="muted">bright: A higher · dark: B higher</span>
              </div>
              <div className="stage-box">
                <ViewerPanel />
              </div>
            </section>
          </ViewContext.Provider>
        )}
      </div>
      {timelapse && <TimelapseBar />}
    </div>
  );
}
