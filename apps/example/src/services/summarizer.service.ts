import { Injectable } from '@nestjs/common';
import type { Page } from './html-page.ts';
import { contentWords } from './words.ts';

/** What the `summary` step outputs. */
export interface Summary {
  readonly title: string;
  /** The page's most representative sentences, in page order. */
  readonly text: string;
  readonly words: number;
}

/** The error of a refused call: the upstream asks to come back later. */
export class SummarizerBusyError extends Error {
  override readonly name = 'SummarizerBusyError';
}

/**
 * Summarizes a page. It stands for a remote model behind a rate limit: the first attempt of every
 * task is refused (deterministically, so that every run shows a retry), and the step's retry
 * options do the rest. The summary itself is extractive: the sentences whose words recur most.
 */
@Injectable()
export class Summarizer {
  /** How many sentences a summary keeps. */
  private static readonly SENTENCES = 2;

  summarize(page: Pick<Page, 'title' | 'text'>, call: { readonly attempt: number }): Summary {
    if (call.attempt === 1) {
      throw new SummarizerBusyError('summarizer busy: rate limit reached (simulated on every first attempt)');
    }
    const sentences = page.text.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.length > 0);
    const frequency = new Map<string, number>();
    for (const word of contentWords(page.text)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
    const score = (sentence: string): number => {
      const words = contentWords(sentence);
      return words.reduce((sum, word) => sum + (frequency.get(word) ?? 0), 0) / Math.max(1, words.length);
    };
    const best = sentences
      .map((sentence, index) => ({ sentence, index, score: score(sentence) }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, Summarizer.SENTENCES)
      .sort((a, b) => a.index - b.index);
    return {
      title: page.title,
      text: best.map(({ sentence }) => sentence).join(' '),
      words: page.text.split(/\s+/).filter(Boolean).length,
    };
  }
}
