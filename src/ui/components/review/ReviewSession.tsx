/** The blinded reading session screen: setup → reading (one blind case at a time) → results. */
import { useEffect, useRef, useState } from 'react';
import { useReview, useReviewState } from '../../review/context';
import { MAX_AGE, MIN_AGE, type Sex, type Truth } from '../../review/session';
import type { Proportion } from '../../review/stats';

const CONTRASTS = ['T1w', 'T2w', 'FLAIR'];

export function ReviewSession() {
  const review = useReview();
  const phase = useReviewState((s) => s.phase);
  const error = useReviewState((s) => s.error);
  const notice = useReviewState((s) => s.notice);
  const progress = useReviewState((s) => s.progress);
  return (
    <div className="review" role="dialog" aria-modal="true" aria-labelledby="review-title">
      <header className="review-head">
        <h2 id="review-title">Blinded reading session</h2>
        <button type="button" onClick={() => review.store.getState().setOpen(false)}>
          Close
        </button>
      </header>
      {notice && <p className="review-notice">{notice}</p>}
      {error && (
        <p role="alert" className="review-error">
          {error}
        </p>
      )}
      {progress && (
        <p role="status" className="review-progress">
          {progress}…
        </p>
      )}
      {(phase === 'setup' || phase === 'preparing') && <Setup busy={phase === 'preparing'} />}
      {phase === 'reading' && <Reading />}
      {phase === 'done' && <Results />}
    </div>
  );
}

function Setup({ busy }: { busy: boolean }) {
  const review = useReview();
  const pending = useReviewState((s) => s.pending);
  const perReal = useReviewState((s) => s.perReal);
  const st = review.store.getState();
  return (
    <section className="review-setup" aria-label="Session setup">
      <p>
        Add your own real scans (NIfTI). They are read in this browser only and never uploaded; they
        are kept in this browser&apos;s storage until you discard the session. Each is mixed with
        synthetic brains of the same age, sex and contrast; every case is resampled to the
        model&apos;s grid and scaled to the same intensity range.
      </p>
      <label className="review-file">
        Add real scans
        <input
          type="file"
          multiple
          accept=".nii,.nii.gz,.gz"
          disabled={busy}
          onChange={(e) => {
            if (e.target.files) review.addFiles(e.target.files);
            e.target.value = '';
          }}
        />
      </label>
      {pending.length > 0 && (
        <table className="review-pending">
          <thead>
            <tr>
              <th>File</th>
              <th>Age</th>
              <th>Sex</th>
              <th>Contrast</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {pending.map((p) => (
              <tr key={p.key}>
                <td>{p.name}</td>
                <td>
                  <input
                    type="number"
                    min={MIN_AGE}
                    max={MAX_AGE}
                    aria-label={`Age of ${p.name}`}
                    value={p.age ?? ''}
                    onChange={(e) =>
                      st.updatePending(p.key, {
                        age: e.target.value === '' ? null : Number(e.target.value),
                      })
                    }
                  />
                </td>
                <td>
                  <select
                    aria-label={`Sex of ${p.name}`}
                    value={p.sex}
                    onChange={(e) => st.updatePending(p.key, { sex: e.target.value as Sex | '' })}
                  >
                    <option value="">choose…</option>
                    <option value="female">female</option>
                    <option value="male">male</option>
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Contrast of ${p.name}`}
                    value={p.contrast}
                    onChange={(e) => st.updatePending(p.key, { contrast: e.target.value })}
                  >
                    {CONTRASTS.map((c) => (
                      <option key={c}>{c}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <button type="button" onClick={() => st.removePending(p.key)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <label>
        Synthetic brains per real scan{' '}
        <input
          type="number"
          min={1}
          max={5}
          value={perReal}
          onChange={(e) => st.setPerReal(Number(e.target.value))}
        />
      </label>
      <button type="button" disabled={busy} onClick={() => void review.start()}>
        Start session
      </button>
    </section>
  );
}

function Reading() {
  const review = useReview();
  const session = useReviewState((s) => s.session);
  const caseShown = useReviewState((s) => s.caseShown);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [answer, setAnswer] = useState<Truth | ''>('');
  const [confidence, setConfidence] = useState(75);
  const [realism, setRealism] = useState(3);
  const [comment, setComment] = useState('');
  useEffect(() => (canvas.current ? review.attachViewer(canvas.current) : undefined), [review]);
  if (!session) return null;
  const n = session.answers.length + 1;
  const submit = async () => {
    if (!answer) return;
    await review.answer({ answer, confidence, realism, comment });
    setAnswer('');
    setConfidence(75);
    setRealism(3);
    setComment('');
  };
  return (
    <section className="review-reading" aria-label="Reading">
      <div className="review-canvas">
        <canvas ref={canvas} aria-label="Case image" />
      </div>
      <form
        className="review-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h3>
          Case {n} of {session.cases.length}
        </h3>
        <fieldset>
          <legend>This image is</legend>
          {(['real', 'synthetic'] as const).map((t) => (
            <label key={t}>
              <input
                type="radio"
                name="truth"
                value={t}
                checked={answer === t}
                onChange={() => setAnswer(t)}
              />{' '}
              {t}
            </label>
          ))}
        </fieldset>
        <label>
          Confidence: {confidence} %
          <input
            type="range"
            min={50}
            max={100}
            step={5}
            value={confidence}
            onChange={(e) => setConfidence(Number(e.target.value))}
          />
        </label>
        <fieldset>
          <legend>Realism (1 = clearly artificial, 5 = indistinguishable)</legend>
          {[1, 2, 3, 4, 5].map((r) => (
            <label key={r}>
              <input
                type="radio"
                name="realism"
                value={r}
                aria-label={`Realism ${r}`}
                checked={realism === r}
                onChange={() => setRealism(r)}
              />{' '}
              {r}
            </label>
          ))}
        </fieldset>
        <label>
          Comment
          <textarea value={comment} rows={3} onChange={(e) => setComment(e.target.value)} />
        </label>
        <button type="submit" disabled={!answer || !caseShown}>
          {n === session.cases.length ? 'Finish' : 'Next case'}
        </button>
      </form>
    </section>
  );
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : '–';
}

function ci(p: Proportion): string {
  return `${pct(p.p)} (95 % CI ${pct(p.ci[0])}–${pct(p.ci[1])}; ${p.correct} of ${p.n})`;
}

function Results() {
  const review = useReview();
  useReviewState((s) => s.session);
  const sum = review.summary();
  if (!sum) return null;
  return (
    <section className="review-results" aria-label="Results">
      <p className="review-accuracy">
        <strong>Accuracy: {ci(sum.accuracy)}</strong>
      </p>
      <p>
        Real scans called real: {ci(sum.real)}. Synthetic brains called synthetic:{' '}
        {ci(sum.synthetic)}. Mean realism: real{' '}
        {Number.isFinite(sum.meanRealism.real) ? sum.meanRealism.real.toFixed(1) : '–'}, synthetic{' '}
        {Number.isFinite(sum.meanRealism.synthetic) ? sum.meanRealism.synthetic.toFixed(1) : '–'}.
      </p>
      <table className="review-table">
        <thead>
          <tr>
            <th>Case</th>
            <th>Truth</th>
            <th>Answer</th>
            <th>Confidence</th>
            <th>Realism</th>
            <th>Time</th>
            <th>Source</th>
            <th>Comment</th>
          </tr>
        </thead>
        <tbody>
          {sum.results.map((r) => (
            <tr key={r.id} className={r.correct ? 'correct' : 'wrong'}>
              <td>{r.number}</td>
              <td>{r.truth}</td>
              <td>
                {r.answer.answer} {r.correct ? '✓' : '✗'}
              </td>
              <td>{r.answer.confidence} %</td>
              <td>{r.answer.realism}</td>
              <td>{(r.answer.timeMs / 1000).toFixed(1)} s</td>
              <td>
                {r.truth === 'real'
                  ? r.source
                  : `synthetic: ${r.age} y, ${r.sex}, ${r.contrast}, seed ${r.seed}`}
              </td>
              <td>{r.answer.comment}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="review-actions">
        <button type="button" onClick={() => review.exportResults('csv')}>
          Export CSV
        </button>
        <button type="button" onClick={() => review.exportResults('json')}>
          Export JSON
        </button>
        <button type="button" onClick={() => void review.discard()}>
          Discard session
        </button>
      </div>
    </section>
  );
}
