import { useConditions } from '../context';
import { RecipeControls } from './RecipeControls';

/** Keep subject (same seed → same individual) and New subject (new random seed). */
export function SubjectPanel() {
  const keep = useConditions((s) => s.keepSubject);
  const seed = useConditions((s) => s.seed);
  const setKeep = useConditions((s) => s.setKeepSubject);
  const newSubject = useConditions((s) => s.newSubject);
  return (
    <div className="subject">
      <label className="check" title="Same seed: the same individual under new conditions">
        <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.target.checked)} />
        Keep subject
      </label>
      <button type="button" onClick={newSubject}>
        New subject
      </button>
      <span className="seed" title="Random seed of this individual">
        seed <span data-testid="seed">{seed}</span>
      </span>
      <RecipeControls />
    </div>
  );
}
