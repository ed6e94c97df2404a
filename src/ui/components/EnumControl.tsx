import { useId } from 'react';
import type { EnumControlSpec } from '../schema';

interface Props {
  spec: EnumControlSpec;
  value: string;
  onCommit: (value: string) => void;
}

/** Up to three options: segmented radio buttons; more: a select. Titles from x-enumTitles. */
export function EnumControl({ spec, value, onCommit }: Props) {
  const id = useId();
  if (spec.options.length <= 3) {
    return (
      <fieldset className="control segmented">
        <legend>{spec.title}</legend>
        <div className="segments">
          {spec.options.map((o) => (
            <label key={o.value} className={o.value === value ? 'segment on' : 'segment'}>
              <input
                type="radio"
                name={id}
                value={o.value}
                checked={o.value === value}
                onChange={() => onCommit(o.value)}
              />
              <span>{o.title}</span>
            </label>
          ))}
        </div>
      </fieldset>
    );
  }
  return (
    <div className="control">
      <div className="control-head">
        <label htmlFor={id}>{spec.title}</label>
      </div>
      <select id={id} value={value} onChange={(e) => onCommit(e.target.value)}>
        {spec.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.title}
          </option>
        ))}
      </select>
    </div>
  );
}
