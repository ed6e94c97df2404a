import { useMemo } from 'react';
import { useConditions, useEngine } from '../context';
import { visibleControls } from '../schema';
import { EnumControl } from './EnumControl';
import { NumberControl } from './NumberControl';

/** Controls generated from manifest.conditionsSchema (order, visibility, ranges, units). */
export function ConditionsPanel() {
  const schema = useEngine((s) => s.schema);
  const conditions = useConditions((s) => s.conditions);
  const setCondition = useConditions((s) => s.setCondition);
  const specs = useMemo(
    () => (schema ? visibleControls(schema, conditions) : []),
    [schema, conditions],
  );
  if (!schema) return <p className="muted">Loading model…</p>;
  return (
    <div className="controls">
      {specs.map((spec) =>
        spec.kind === 'number' ? (
          <NumberControl
            key={spec.name}
            spec={spec}
            value={Number(conditions[spec.name])}
            onCommit={(v) => setCondition(spec.name, v)}
          />
        ) : (
          <EnumControl
            key={spec.name}
            spec={spec}
            value={String(conditions[spec.name] ?? '')}
            onCommit={(v) => setCondition(spec.name, v)}
          />
        ),
      )}
    </div>
  );
}
