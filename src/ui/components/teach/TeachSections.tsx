import { useEffect, useState } from 'react';
import { ComparePanel } from './ComparePanel';
import { ExplainPanel } from './ExplainPanel';
import { TimelapsePanel } from './TimelapsePanel';
import { useTeachUi } from './useTeach';

/** The teaching sections of the side panel: compare, time-lapse, explain. */
export function TeachSections() {
  // the explain panel (and its table download) only once opened
  const [explain, setExplain] = useState(false);
  return (
    <>
      <section aria-labelledby="h-compare">
        <h2 id="h-compare">Compare</h2>
        <ComparePanel />
      </section>
      <section aria-labelledby="h-timelapse">
        <h2 id="h-timelapse">Time-lapse</h2>
        <TimelapsePanel />
      </section>
      <details className="explain-section" onToggle={(e) => setExplain(e.currentTarget.open)}>
        <summary>
          <h2>Explain: regional volumes</h2>
        </summary>
        {explain && <ExplainPanel />}
      </details>
    </>
  );
}

/** Large type and controls for a projector (a class on the document root). */
export function PresentationToggle() {
  const on = useTeachUi((s) => s.presentation);
  const toggle = useTeachUi((s) => s.toggle);
  useEffect(() => {
    document.documentElement.classList.toggle('presentation', on);
  }, [on]);
  return (
    <button type="button" className="presentation-toggle" aria-pressed={on} onClick={toggle}>
      Presentation mode
    </button>
  );
}
