import { useEffect, useRef } from 'react';
import { useBackend, useController, useEngine, useView, useViewerState } from '../context';
import { formatIntensity } from '../format';
import { isActive } from '../stores/backendStore';
import { useFullSizeStale } from './FullSizePanel';

/** The NiiVue stage: a canvas made per mount (clean re-mounts), plus small overlays. */
export function ViewerPanel() {
  const controller = useController();
  const view = useView();
  const isMain = view === controller.main;
  const host = useRef<HTMLDivElement>(null);
  const status = useEngine((s) => s.status);
  const cursor = useViewerState((s) => s.cursor);
  const userFile = useViewerState((s) => s.userFile);
  const userFileNotes = useViewerState((s) => s.userFileNotes);
  const showing = useBackend((s) => s.showing);
  // the 1 mm workflow belongs to the main view
  const hasFullSize = useBackend((s) => s.result !== null) && isMain;
  const fullSizeActive = useBackend((s) => isActive(s.phase)) && isMain;
  const fullSizePct = useBackend((s) => Math.round(s.progress * 100));
  const stale = useFullSizeStale();

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const canvas = document.createElement('canvas');
    canvas.setAttribute('aria-label', 'MRI viewer');
    canvas.setAttribute('role', 'img');
    canvas.dataset.testid = 'viewer-canvas';
    el.appendChild(canvas);
    const detach = controller.attachViewer(canvas, view);
    return () => {
      detach();
      canvas.remove();
    };
  }, [controller, view]);

  return (
    <div className="stage">
      <div className="canvas-host" ref={host} />
      {status === 'sampling' ? (
        <div className="badge busy" aria-hidden="true">
          Generating…
        </div>
      ) : (
        fullSizeActive && (
          <div className="badge busy" aria-hidden="true">
            Full size 1 mm: {fullSizePct} %
          </div>
        )
      )}
      {!userFile && hasFullSize && (
        <div className={`banner showing showing-${showing}`} data-testid="showing">
          Showing:{' '}
          <strong>{showing === 'full-size' ? 'full size 1 mm (backend)' : 'browser 2 mm'}</strong>
          {showing === 'full-size' && stale && <span className="muted"> · earlier conditions</span>}
          {showing === 'full-size' ? (
            <button
              type="button"
              className="link"
              onClick={() => void controller.fullSize.show('browser')}
            >
              Back to browser 2 mm
            </button>
          ) : (
            <button
              type="button"
              className="link"
              onClick={() => void controller.fullSize.show('full-size')}
            >
              Show full size 1 mm
            </button>
          )}
        </div>
      )}
      {userFile && (
        <div className="banner">
          Showing uploaded file <strong>{userFile}</strong>
          {userFileNotes.length > 0 && (
            <span className="muted" data-testid="upload-notes">
              {' '}
              · {userFileNotes.join(' · ')}
            </span>
          )}
          <button
            type="button"
            className="link"
            onClick={() => void controller.showGenerated(view)}
          >
            Back to generated brain
          </button>
        </div>
      )}
      <div className="readout" aria-live="off">
        <span>
          Structure: <strong data-testid="structure">{cursor?.name || '—'}</strong>
        </span>
        {cursor && (
          <span className="coords">
            {cursor.mm.map((v) => v.toFixed(0)).join(', ')} mm
            {cursor.intensity !== null && (
              <>
                {' · '}
                <span data-testid="intensity" title="Image intensity at the crosshair">
                  {formatIntensity(cursor.intensity)}
                </span>
              </>
            )}
          </span>
        )}
      </div>
    </div>
  );
}
