import type { KeyboardEvent } from 'react';
import { AGE_STEPS, TIMELAPSE_SPEEDS, type TimelapseTrack } from '../../stores/timelapseStore';
import { EnumControl } from '../EnumControl';
import { useTeach, useTimelapse } from './useTeach';

/** Side-panel controls: what to step, and opening/closing the time-lapse. */
export function TimelapsePanel() {
  const tl = useTeach().timelapse;
  const active = useTimelapse((s) => s.active);
  const track = useTimelapse((s) => s.track);
  const ageStep = useTimelapse((s) => s.ageStep);
  const error = useTimelapse((s) => s.error);
  return (
    <div className="controls">
      <EnumControl
        spec={{
          kind: 'enum',
          name: 'track',
          title: 'Step',
          options: [
            { value: 'age', title: 'Age 20 → 90' },
            { value: 'disease', title: 'Disease severity' },
          ],
        }}
        value={track}
        onCommit={(v) => tl.setTrack(v as TimelapseTrack)}
      />
      {track === 'age' && (
        <label className="field">
          <span>Years per frame</span>
          <select value={ageStep} onChange={(e) => tl.setAgeStep(Number(e.target.value))}>
            {AGE_STEPS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="button" aria-pressed={active} onClick={() => (active ? tl.close() : tl.open())}>
        {active ? 'Close time-lapse' : 'Open time-lapse'}
      </button>
      {error && (
        <p className="hint warn" role="alert">
          Time-lapse: {error}
        </p>
      )}
    </div>
  );
}

/** Transport under the viewer: play/pause, scrub, loop, speed, the value readout. */
export function TimelapseBar() {
  const tl = useTeach().timelapse;
  const s = useTimelapse((st) => st);
  const n = s.values.length;
  const cached = s.cached.filter(Boolean).length;
  const value = s.values[s.index];
  const p = s.param;
  // a short unit after the value (mL, mm); a long one ("0 = none, 1 = severe") is left out
  const unit = p
    ? p.name === 'age'
      ? ' y'
      : p.unit.length <= 6 && p.unit
        ? ` ${p.unit}`
        : ''
    : '';
  const readout = p && value !== undefined ? `${p.title} ${value.toFixed(p.decimals)}${unit}` : '—';
  const onKey = (e: KeyboardEvent) => {
    // k anywhere in the bar, Space on the scrubber (buttons and checkboxes keep their own Space)
    const onRange = e.target instanceof HTMLInputElement && e.target.type === 'range';
    if (e.key === 'k' || (e.key === ' ' && onRange)) {
      e.preventDefault();
      tl.toggle();
    }
  };
  return (
    <div
      className="timelapse-bar"
      role="group"
      aria-label="Time-lapse"
      onKeyDown={onKey}
      data-testid="timelapse-bar"
    >
      <button
        type="button"
        className="primary"
        onClick={() => tl.toggle()}
        aria-label={s.playing ? 'Pause' : 'Play'}
        disabled={n === 0}
      >
        {s.playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <strong className="timelapse-readout" aria-live="polite" data-testid="timelapse-readout">
        {readout}
      </strong>
      <input
        type="range"
        aria-label="Time-lapse frame"
        aria-valuetext={readout}
        min={0}
        max={Math.max(0, n - 1)}
        step={1}
        value={s.index}
        disabled={n === 0}
        onChange={(e) => tl.seek(Number(e.target.value))}
      />
      <label className="check">
        <input type="checkbox" checked={s.loop} onChange={(e) => tl.setLoop(e.target.checked)} />
        Loop
      </label>
      <label className="field inline">
        <span>Speed</span>
        <select
          aria-label="Speed (frames per second)"
          value={s.speed}
          onChange={(e) => tl.setSpeed(Number(e.target.value))}
        >
          {TIMELAPSE_SPEEDS.map((v) => (
            <option key={v} value={v}>
              {v} fps
            </option>
          ))}
        </select>
      </label>
      <span className="muted" data-testid="timelapse-cache">
        {s.preparing !== null
          ? `preparing playback ${s.preparing + 1}/${n}`
          : s.status === 'computing'
            ? `computing frames ${cached}/${n}${s.frameMs ? ` (${(s.frameMs / 1000).toFixed(1)} s each)` : ''}`
            : s.status === 'ready'
              ? `${n} frames cached`
              : ''}
        {s.measuredFps !== null && ` · shown ${s.measuredFps.toFixed(1)} fps`}
      </span>
      <div className="cache-strip" aria-hidden="true">
        {s.cached.map((c, i) => (
          <span key={i} className={`${c ? 'c' : ''}${i === s.index ? ' at' : ''}`} />
        ))}
      </div>
    </div>
  );
}
