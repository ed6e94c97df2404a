/** Errors the engine's callers may want to tell apart. */

/** A sample request was replaced by a newer one before it finished (the UI ignores these). */
export class SupersededError extends Error {
  constructor(message = 'Superseded by a newer request') {
    super(message);
    this.name = 'SupersededError';
  }
}

/** Conditions failed schema validation; `errors` holds one readable message per problem. */
export class ConditionsError extends Error {
  constructor(readonly errors: string[]) {
    super(`Invalid conditions: ${errors.join('; ')}`);
    this.name = 'ConditionsError';
  }
}
