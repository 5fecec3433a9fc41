/** A lone UTF-16 surrogate: in a `u` pattern a surrogate pair is one code point, so only lone halves match. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether `text` is well-formed Unicode: a lone surrogate (a JSON `"\udc00"`) has no UTF-8 form,
 * so the driver would store it as U+FFFD and the stored text would no longer be the one sent.
 */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The length of `text` in characters as a VARCHAR column counts them: code points. */
export function codePointLength(text: string): number {
  return [...text].length;
}
