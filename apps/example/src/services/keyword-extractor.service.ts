import { Injectable } from '@nestjs/common';
import { contentWords } from './words.ts';

/**
 * Extracts a page's keywords: its most frequent content words (ties: first seen first). A real
 * application would call a language model or a search index here.
 */
@Injectable()
export class KeywordExtractor {
  extract(text: string, count = 5): string[] {
    const frequency = new Map<string, number>();
    for (const word of contentWords(text)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
    // A plural counts for its singular when the page uses both ("steps" for "step").
    for (const [word, count] of frequency) {
      const singular = word.slice(0, -1);
      if (word.endsWith('s') && !word.endsWith('ss') && frequency.has(singular)) {
        frequency.set(singular, (frequency.get(singular) ?? 0) + count);
        frequency.delete(word);
      }
    }
    // Map iteration keeps first-seen order, and sort is stable: ties stay in page order.
    return [...frequency.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([word]) => word);
  }
}
