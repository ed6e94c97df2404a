import { useId } from 'react';
import { useController, useEngine, useView, useViewerState } from '../context';

/** Downloads of the current sample, and "Open NIfTI…" for a user's own file. */
export function FilesPanel() {
  const controller = useController();
  const view = useView();
  const id = useId();
  const hasVolume = useEngine((s) => s.volume !== null);
  const fileError = useViewerState((s) => s.fileError);
  const opening = useViewerState((s) => s.openingFile);
  return (
    <div className="files">
      <div className="buttons">
        <button
          type="button"
          disabled={!hasVolume}
          onClick={() => controller.download('image', view)}
        >
          Download image (.nii.gz)
        </button>
        <button
          type="button"
          disabled={!hasVolume}
          onClick={() => controller.download('labels', view)}
        >
          Download labels (.nii.gz)
        </button>
        <button
          type="button"
          disabled={!hasVolume}
          onClick={() => controller.download('sidecar', view)}
        >
          Download sidecar (.json)
        </button>
      </div>
      <label htmlFor={id} className="file-button">
        Open NIfTI…
      </label>
      <input
        id={id}
        className="visually-hidden"
        type="file"
        accept=".nii,.nii.gz,.gz"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void controller.openFile(file, view);
        }}
      />
      {opening && (
        <p className="muted" role="status">
          Opening {opening}…
        </p>
      )}
      {fileError && (
        <div className="error" role="alert">
          <span>{fileError}</span>
          <button type="button" className="link" onClick={() => controller.dismissFileError(view)}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
