import { useEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import { useEngine } from '../../context';
import type { Sex } from '../../teach/normative';
import { placeRegions } from '../../teach/explain';
import { useExplain, useTeach, useTeachUi } from './useTeach';

function title(region: string): string {
  return region === 'icv' ? 'intracranial volume' : region.replace(/-/g, ' ');
}

const fmt = (ml: number) => (ml >= 100 ? ml.toFixed(0) : ml.toFixed(1));

/** Regional volumes of the main view's brain against the normative curve for its sex. */
export function ExplainPanel() {
  const explain = useTeach().explain;
  const status = useExplain((s) => s.status);
  const error = useExplain((s) => s.error);
  const model = useExplain((s) => s.model);
  const region = useExplain((s) => s.region);
  const hover = useExplain((s) => s.hover);
  const volume = useEngine((s) => s.volume);
  const big = useTeachUi((s) => s.presentation);
  const host = useRef<HTMLDivElement>(null);

  // the model's folder is known once the model is loaded
  const manifest = useEngine((s) => s.manifest);
  useEffect(() => {
    if (manifest) void explain.load();
  }, [explain, manifest]);

  const rows = useMemo(() => (model && volume ? placeRegions(model, volume) : []), [model, volume]);
  const c = volume?.metadata.conditions as unknown as Record<string, unknown> | undefined;
  const sex = c?.sex as Sex | undefined;
  const age = Number(c?.age);
  const current = rows.find((r) => r.region === region) ?? rows[0];

  useEffect(() => {
    const el = host.current;
    if (!el || !model || !sex || !current) return;
    const curve = model.curve(sex, current.region);
    // the current brain: one point at the table age nearest its own
    const at = curve.ages.reduce(
      (best, a, i) => (Math.abs(a - age) < Math.abs(curve.ages[best] - age) ? i : best),
      0,
    );
    const point = curve.ages.map((_, i) => (i === at ? current.ml : null));
    const name = title(current.region);
    const width = Math.max(220, el.clientWidth || 286);
    let plot: uPlot | null = null;
    let gone = false;
    // uPlot (and its stylesheet) in their own chunk, loaded when the panel first draws
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([mod]) => {
      if (gone) return;
      plot = new mod.default(
        {
          width,
          height: big ? 300 : 190,
          legend: { show: false },
          cursor: { points: { size: 8 }, drag: { x: false, y: false } },
          scales: { x: { time: false } },
          axes: [
            { stroke: '#8a94a6', grid: { stroke: '#2a303a' }, label: 'age (years)', size: 36 },
            {
              stroke: '#8a94a6',
              grid: { stroke: '#2a303a' },
              label: `${name} (mL)`,
              size: 48,
              values: (_u, splits) => splits.map((v) => fmt(v)),
            },
          ],
          series: [
            {},
            { label: '2.5 %', stroke: 'rgba(63,182,255,0.35)', width: 1 },
            { label: '16 %', stroke: 'rgba(63,182,255,0.6)', width: 1 },
            { label: 'median', stroke: '#3fb6ff', width: 2 },
            { label: '84 %', stroke: 'rgba(63,182,255,0.6)', width: 1 },
            { label: '97.5 %', stroke: 'rgba(63,182,255,0.35)', width: 1 },
            {
              label: 'this brain',
              stroke: '#f2c14e',
              fill: '#f2c14e',
              paths: () => null,
              points: { show: true, size: 11, stroke: '#f2c14e', fill: '#f2c14e' },
            },
          ],
          bands: [
            { series: [5, 1], fill: 'rgba(63,182,255,0.10)' },
            { series: [4, 2], fill: 'rgba(63,182,255,0.18)' },
          ],
          hooks: {
            setCursor: [
              (u) => {
                const i = u.cursor.idx;
                // off the chart: keep the last sentence (a row's, when the pointer went there)
                if (i === null || i === undefined) return;
                const a = curve.ages[i];
                const base = `${name}, ${sex} ${a} y: median ${fmt(curve.median[i])} mL (95 % band ${fmt(curve.lo95[i])}–${fmt(curve.hi95[i])})`;
                explain.setHover(
                  i === at
                    ? `${base} · this brain ${fmt(current.ml)} mL, centile ${current.centile.toFixed(0)}`
                    : base,
                );
              },
            ],
          },
        },
        [curve.ages, curve.lo95, curve.lo68, curve.median, curve.hi68, curve.hi95, point],
        el,
      );
    });
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [model, sex, age, current, big, explain]);

  if (status === 'error')
    return (
      <p className="hint warn" role="alert">
        {error}
      </p>
    );
  if (status !== 'ready' || !volume) return <p className="muted">Loading the normative table…</p>;
  return (
    <div className="explain">
      <label className="field">
        <span>Structure</span>
        <select value={current?.region ?? ''} onChange={(e) => explain.setRegion(e.target.value)}>
          {rows.map((r) => (
            <option key={r.region} value={r.region}>
              {title(r.region)}
            </option>
          ))}
        </select>
      </label>
      <div
        ref={host}
        className="explain-chart"
        role="img"
        data-testid="explain-chart"
        aria-label={
          current
            ? `Normative ${title(current.region)} volume by age for ${sex}s, with this brain at ${age} y: ${fmt(current.ml)} mL, centile ${current.centile.toFixed(0)}`
            : 'Normative chart'
        }
      />
      <p className="hint explain-hover" aria-live="polite" data-testid="explain-hover">
        {hover || 'Point at the chart or a row to name the structure.'}
      </p>
      <table className="explain-table">
        <thead>
          <tr>
            <th scope="col">Structure</th>
            <th scope="col">mL</th>
            <th scope="col">median</th>
            <th scope="col">centile</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.region}
              className={r.region === current?.region ? 'sel' : undefined}
              onMouseEnter={() =>
                explain.setHover(
                  `${title(r.region)}: ${fmt(r.ml)} mL, median for ${sex}s of ${age} y ${fmt(r.median)} mL, centile ${r.centile.toFixed(0)}`,
                )
              }
            >
              <th scope="row">
                <button type="button" className="link" onClick={() => explain.setRegion(r.region)}>
                  {title(r.region)}
                </button>
              </th>
              <td>{fmt(r.ml)}</td>
              <td>{fmt(r.median)}</td>
              <td className={r.centile < 2.5 || r.centile > 97.5 ? 'out' : undefined}>
                {r.centile.toFixed(0)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        Curve: the model&apos;s normative table (median by age and sex) in this model&apos;s region
        definitions; bands: 16–84 % and 2.5–97.5 % of the model&apos;s head-size spread (the table
        holds medians only).
      </p>
    </div>
  );
}
