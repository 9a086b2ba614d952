import { resolveExampleOptions } from '../example.options.ts';
import { KeywordExtractor } from './keyword-extractor.service.ts';
import { LinkChecker } from './link-checker.service.ts';
import { PageFetcher } from './page-fetcher.service.ts';
import { Summarizer, SummarizerBusyError } from './summarizer.service.ts';

const page = {
  title: 'Queues',
  text: 'Queues hold messages. A worker reads messages from queues. The weather is nice today. Workers retry failed messages.',
};

describe('Summarizer', () => {
  it('refuses the first attempt of a task (the simulated rate limit)', () => {
    expect(() => new Summarizer().summarize(page, { attempt: 1 })).toThrow(SummarizerBusyError);
  });

  it('keeps the two sentences whose words recur most, in page order', () => {
    expect(new Summarizer().summarize(page, { attempt: 2 })).toEqual({
      title: 'Queues',
      text: 'Queues hold messages. A worker reads messages from queues.',
      words: 18,
    });
  });
});

describe('KeywordExtractor', () => {
  it('returns the most frequent content words, counting a plural for its singular', () => {
    expect(new KeywordExtractor().extract(page.text, 3)).toEqual(['messages', 'queues', 'worker']);
  });
});

describe('LinkChecker', () => {
  const checker = new LinkChecker(new PageFetcher(resolveExampleOptions({ databaseUrl: 'postgres://unused' })));

  it.each([
    ['https://example.com/docs', 'ok'],
    ['https://example.com/gone', 'broken'],
    ['https://nodejs.org/', 'external'],
    ['mailto:someone@example.com', 'invalid'],
    ['not a url', 'invalid'],
  ])('%s is %s', (url, status) => {
    expect(checker.check(url)).toEqual({ url, status });
  });
});
