import { useId } from 'react';
import { useController, useEngine, useView, useViewerState } from '../context';
import { summarize } from '../controller';
import { formatIntensity } from '../format';
import { isLesionLabel } from '../lesionFocus';

/** Label overlay on/off + opacity, radiological/neurological convention. */
export function DisplayPanel() {
  const id = useId();
  const controller = useController();
  const view = useView();
  const hasLesion = useEngine((s) => {
    const range = s.manifest?.labelRanges.pathology;
    return (
      s.volume !== null &&
      range !== undefined &&
      summarize(s.volume).labelsPresent.some((v) => isLesionLabel(v, range))
    );
  });
  const overlay = useViewerState((s) => s.overlay);
  const opacity = useViewerState((s) => s.opacity);
  const radiological = useViewerState((s) => s.radiological);
  const setOverlay = useViewerState((s) => s.setOverlay);
  const setOpacity = useViewerState((s) => s.setOpacity);
  const setRadiological = useViewerState((s) => s.setRadiological);
  const review = useViewerState((s) => s.review);
  const brainOnly3D = useViewerState((s) => s.brainOnly3D);
  const setBrainOnly3D = useViewerState((s) => s.setBrainOnly3D);
  const setReview = useViewerState((s) => s.setReview);
  return (
    <div className="display">
      <label
        className="check"
        title="Read the image as acquired: radiological convention, label overlay off"
      >
        <input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} />
        Review mode (radiological, no labels)
      </label>
      <label className="check">
        <input type="checkbox" checked={overlay} onChange={(e) => setOverlay(e.target.checked)} />
        Label overlay
      </label>
      <div className="control">
        <div className="control-head">
          <label htmlFor={id}>Overlay opacity</label>
          <span className="unit">{Math.round(opacity * 100)} %</span>
        </div>
        <input
          id={id}
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={opacity}
          disabled={!overlay}
          onChange={(e) => setOpacity(Number(e.target.value))}
        />
      </div>
      <label className="check" title="Radiological: the patient's left is on the screen's right">
        <input
          type="checkbox"
          checked={radiological}
          onChange={(e) => setRadiological(e.target.checked)}
        />
        Radiological convention
      </label>
      <label
        className="check"
        title="The 3D render shows the labelled brain without scalp and skull (needs the label overlay); off: the whole head"
      >
        <input
          type="checkbox"
          checked={brainOnly3D}
          onChange={(e) => setBrainOnly3D(e.target.checked)}
        />
        3D: brain only
      </label>
      <WindowPresetSelect />
      {hasLesion && (
        <button type="button" onClick={() => controller.focusLesion(view)}>
          Go to lesion
        </button>
      )}
      <p className="hint">Click to move the crosshair · right-drag: window/level</p>
    </div>
  );
}

/** Window/level presets for the contrast on screen; right-drag still sets any window. */
function WindowPresetSelect() {
  const id = useId();
  const controller = useController();
  const view = useView();
  const volume = useEngine((s) => s.volume);
  const userFile = useViewerState((s) => s.userFile);
  const presets = volume && !userFile ? controller.windowPresets(view) : [];
  if (presets.length === 0) return null;
  return (
    <div className="control">
      <div className="control-head">
        <label htmlFor={id}>Window preset</label>
      </div>
      <select id={id} value="" onChange={(e) => controller.applyWindowPreset(e.target.value, view)}>
        <option value="" disabled>
          Choose…
        </option>
        {presets.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name} ({formatIntensity(p.min)}–{formatIntensity(p.max)})
          </option>
        ))}
      </select>
    </div>
  );
}
