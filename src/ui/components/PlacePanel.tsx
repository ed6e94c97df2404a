import { useController, useConditions, useView, useViewerState } from '../context';
import { isPlaceable } from '../place';

/**
 * "Place by clicking" (glioma: centre, drag for the radius; stroke: side). Shown for the
 * pathologies that can be placed; the logic is in place.ts and controller.place.
 */
export function PlacePanel() {
  const controller = useController();
  const view = useView();
  const pathology = useConditions((s) => s.conditions.pathology);
  const placeMode = useViewerState((s) => s.placeMode);
  const message = useViewerState((s) => s.placeMessage);
  const setPlaceMode = useViewerState((s) => s.setPlaceMode);
  const cursor = useViewerState((s) => s.cursor);
  if (!isPlaceable(pathology)) return null;
  const what =
    pathology === 'glioma'
      ? 'Click in a slice to put the tumour centre there; drag from the centre to set its radius.'
      : "Click in a slice: the stroke goes on that side (the subject's left or right).";
  return (
    <div className="place" data-testid="place-panel">
      <div className="buttons">
        <button
          type="button"
          aria-pressed={placeMode}
          className={placeMode ? 'primary' : undefined}
          onClick={() => setPlaceMode(!placeMode)}
          title={what}
        >
          {placeMode ? 'Placing: click in the viewer' : 'Place by clicking'}
        </button>
        <button
          type="button"
          disabled={!cursor}
          onClick={() => cursor && controller.place(cursor.mm, cursor.mm, view)}
          title="Place it at the crosshair (move the crosshair first)"
        >
          Place at crosshair
        </button>
      </div>
      {placeMode && <p className="hint">{what}</p>}
      {message &&
        (message.ok ? (
          <p className="muted" role="status" data-testid="place-message">
            {message.text}
          </p>
        ) : (
          <p className="error" role="alert" data-testid="place-message">
            {message.text}
          </p>
        ))}
    </div>
  );
}
