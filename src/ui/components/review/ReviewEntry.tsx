/** The entry point of the blinded reading session: a button, and the session screen when open. */
import { useReview, useReviewState } from '../../review/context';
import { ReviewSession } from './ReviewSession';

export function ReviewEntry() {
  const review = useReview();
  const open = useReviewState((s) => s.open);
  return (
    <>
      <button
        type="button"
        className="review-entry"
        onClick={() => review.store.getState().setOpen(true)}
      >
        Blinded reading session
      </button>
      {open && <ReviewSession />}
    </>
  );
}
