import { useConditions, useEngine } from '../context';

/** Refused input (URL parameters) and engine errors, visible until dismissed or resolved. */
export function Notices() {
  const errors = useConditions((s) => s.errors);
  const dismiss = useConditions((s) => s.dismissErrors);
  const engineError = useEngine((s) => s.error);
  return (
    <>
      {errors.length > 0 && (
        <div className="error" role="alert" aria-label="Refused parameters">
          <strong>Some parameters need your attention:</strong>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
          <button type="button" className="link" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {engineError && (
        <div className="error" role="alert">
          {engineError}
        </div>
      )}
    </>
  );
}
