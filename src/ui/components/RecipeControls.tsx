import { useState } from 'react';
import { useController, useEngine, useView } from '../context';
import { recipeJson, recipeOf } from '../recipe';

/**
 * The recipe of the brain on screen (recipe.ts): shown as JSON, copyable; a pasted recipe is
 * applied to the main view. The draft is local UI state until "Apply recipe".
 */
export function RecipeControls() {
  const controller = useController();
  const view = useView();
  const volume = useEngine((s) => s.volume);
  const [draft, setDraft] = useState<string | null>(null);
  const [copyNote, setCopyNote] = useState<string | null>(null);
  const current = volume ? recipeJson(recipeOf(volume)) : '';
  const text = draft ?? current;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopyNote('Recipe copied to the clipboard.');
    } catch {
      setCopyNote('The clipboard is not available here: select the text and copy it.');
    }
  };

  return (
    <details className="recipe">
      <summary>Recipe (reproduce this brain)</summary>
      <textarea
        aria-label="Recipe JSON"
        data-testid="recipe"
        rows={9}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setDraft(e.target.value);
          setCopyNote(null);
        }}
      />
      <div className="buttons">
        <button type="button" disabled={!text} onClick={() => void copy()}>
          Copy recipe
        </button>
        {view === controller.main && (
          <button
            type="button"
            disabled={draft === null}
            onClick={() => {
              if (draft !== null && controller.applyRecipe(draft)) setDraft(null);
            }}
            title="Generate the brain this recipe describes"
          >
            Apply recipe
          </button>
        )}
        {draft !== null && (
          <button type="button" className="link" onClick={() => setDraft(null)}>
            Back to this brain&apos;s recipe
          </button>
        )}
      </div>
      {copyNote && (
        <p className="muted" role="status">
          {copyNote}
        </p>
      )}
    </details>
  );
}
