/** Word splitting shared by the Summarizer and the KeywordExtractor. */

const STOP_WORDS = new Set(
  (
    'a about after an and any are as at be because been before but by can do does each every for from ' +
    'has have how if in into is it its more most no not of on once or our read so than that the their ' +
    'them then there these they this those through to up us use we what when where which who will with ' +
    'you your'
  ).split(' '),
);

/** The lower-cased words of `text` that carry meaning (no stop words, no one- or two-letter words). */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z][a-z'-]*[a-z]/g) ?? []).filter(
    (word) => word.length > 2 && !STOP_WORDS.has(word),
  );
}
