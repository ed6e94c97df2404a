import { useEffect, useId, useRef, useState } from 'react';
import { numberProblem, stepDecimals, type NumberControlSpec } from '../schema';

/** Debounce for typed numbers before they are committed (ms). */
export const TYPING_DEBOUNCE_MS = 500;

interface Props {
  spec: NumberControlSpec;
  value: number;
  onCommit: (value: number) => void;
}

/**
 * Range slider + numeric input for one schema number. Dragging only moves a local draft; the
 * value is COMMITTED (and a sample requested) on release (pointerup / native change / key up),
 * or after typing stops for TYPING_DEBOUNCE_MS, or on Enter/blur. Typed values outside the
 * schema range are refused with a message, never clamped.
 */
export function NumberControl({ spec, value, onCommit }: Props) {
  const id = useId();
  const decimals = stepDecimals(spec.step);
  const fmt = (v: number) => {
    if (!Number.isFinite(v)) return '';
    const t = v.toFixed(decimals);
    return t.includes('.') ? t.replace(/\.?0+$/, '') : t;
  };
  const [committed, setCommitted] = useState(value);
  const [draft, setDraft] = useState(value);
  const [text, setText] = useState(fmt(value));
  const [problem, setProblem] = useState<string | null>(null);
  const rangeRef = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  if (!Object.is(value, committed)) {
    // the committed value changed elsewhere (URL, another control): follow it
    setCommitted(value);
    setDraft(value);
    setText(fmt(value));
    setProblem(null);
  }

  const commit = (v: number) => {
    const rounded = Number(v.toFixed(decimals));
    const p = numberProblem(spec, rounded);
    if (p) {
      setProblem(p);
      return;
    }
    setProblem(null);
    setDraft(rounded);
    if (rounded !== value) onCommit(rounded);
  };
  const commitRef = useRef(commit);
  useEffect(() => {
    commitRef.current = commit;
  });

  // The native 'change' event of a range input fires on release (mouse, touch) and per key step.
  useEffect(() => {
    const el = rangeRef.current;
    if (!el) return;
    const onChange = () => commitRef.current(Number(el.value));
    el.addEventListener('change', onChange);
    return () => el.removeEventListener('change', onChange);
  }, []);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const commitText = (t: string) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (t.trim() === '') {
      setProblem(`${spec.title}: enter a number`);
      return;
    }
    commit(Number(t));
  };

  return (
    <div className="control">
      <div className="control-head">
        <label htmlFor={id}>{spec.title}</label>
        {spec.unit && <span className="unit">{spec.unit}</span>}
      </div>
      <div className="control-row">
        <input
          ref={rangeRef}
          id={id}
          type="range"
          min={spec.min}
          max={spec.max}
          step={spec.step}
          value={draft}
          onChange={(e) => {
            const v = Number(e.target.value);
            setDraft(v);
            setText(fmt(v));
          }}
          onPointerUp={(e) => commit(Number(e.currentTarget.value))}
          onKeyUp={(e) => commit(Number(e.currentTarget.value))}
        />
        <input
          type="number"
          className="num"
          aria-label={`${spec.title} value`}
          aria-invalid={problem ? true : undefined}
          min={spec.min}
          max={spec.max}
          step={spec.step}
          value={text}
          onChange={(e) => {
            const t = e.target.value;
            setText(t);
            if (timer.current) clearTimeout(timer.current);
            timer.current = setTimeout(() => commitText(t), TYPING_DEBOUNCE_MS);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commitText(e.currentTarget.value);
          }}
          onBlur={(e) => {
            if (timer.current) commitText(e.currentTarget.value);
          }}
        />
      </div>
      {problem && (
        <div className="problem" role="alert">
          {problem}
        </div>
      )}
    </div>
  );
}
