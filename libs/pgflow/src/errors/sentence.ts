/**
 * Ends `text` with a full stop unless it already ends a sentence: messages that quote another text
 * (a handler's error, an engine message) must not end in '..'.
 */
export function endSentence(text: string): string {
  return /[.!?]\s*$/.test(text) ? text.trimEnd() : `${text}.`;
}
