import { COMPARE_PRESETS, type ComparePreset } from '../../teach/compare';
import { COMPARE_LAYOUTS, type CompareLayout } from '../../stores/compareStore';
import { EnumControl } from '../EnumControl';
import { useCompare, useTeach } from './useTeach';

/** Compare controls: number of viewers, linking, teaching pairs, difference map. */
export function ComparePanel() {
  const compare = useTeach().compare;
  const layout = useCompare((s) => s.layout);
  const linked = useCompare((s) => s.linked);
  const difference = useCompare((s) => s.difference);
  const problem = useCompare((s) => s.differenceProblem);
  const maxAbs = useCompare((s) => s.differenceMaxAbs);
  return (
    <div className="controls compare-controls">
      <EnumControl
        spec={{
          kind: 'enum',
          name: 'viewers',
          title: 'Viewers',
          options: COMPARE_LAYOUTS.map((n) => ({
            value: String(n),
            title: n === 1 ? '1 viewer' : `${n} viewers`,
          })),
        }}
        value={String(layout)}
        onCommit={(v) => compare.setLayout(Number(v) as CompareLayout)}
      />
      <label className="check">
        <input
          type="checkbox"
          checked={linked}
          onChange={(e) => compare.setLinked(e.target.checked)}
        />
        Link viewers (crosshair, zoom, slice)
      </label>
      <div className="button-row" role="group" aria-label="Teaching pairs">
        {(Object.keys(COMPARE_PRESETS) as ComparePreset[]).map((k) => (
          <button key={k} type="button" onClick={() => compare.applyPreset(k)}>
            {COMPARE_PRESETS[k].title}
          </button>
        ))}
      </div>
      {layout > 1 && (
        <button type="button" onClick={() => compare.sameSubject()}>
          Same subject in B
        </button>
      )}
      <label className="check">
        <input
          type="checkbox"
          checked={difference}
          disabled={layout !== 2}
          onChange={(e) => compare.setDifference(e.target.checked)}
        />
        Difference map (A − B)
      </label>
      {difference && (
        <p className={problem ? 'hint warn' : 'hint'} role="status" data-testid="difference-status">
          {problem
            ? `No difference map: ${problem}.`
            : maxAbs !== null
              ? `A − B on screen (largest |difference| ${maxAbs.toFixed(3)}).`
              : ''}
        </p>
      )}
    </div>
  );
}
