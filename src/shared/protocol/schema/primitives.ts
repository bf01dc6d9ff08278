import Type from "typebox";

/** string, minLength 1 — the reference's `NonEmptyString`. */
export const NonEmptyString = Type.String({ minLength: 1 });

/** Closed object options (`additionalProperties:false`), as every reference schema uses. */
export const closed = { additionalProperties: false } as const;
