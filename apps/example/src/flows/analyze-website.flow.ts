import { Flow, type MapItem, type MapStepContext, Step, type StepContext, type StepInput } from 'nestjs-pgflow';
import { type Page, resolveLinks } from '../services/html-page.ts';
import { KeywordExtractor } from '../services/keyword-extractor.service.ts';
import { type LinkCheck, LinkChecker } from '../services/link-checker.service.ts';
import { PageFetcher } from '../services/page-fetcher.service.ts';
import { ReportStore } from '../services/report-store.service.ts';
import { Summarizer, type Summary } from '../services/summarizer.service.ts';

/** The input of a run: the page to analyze. */
export interface AnalyzeWebsiteInput {
  readonly url: string;
}

/** What `save`, the flow's only leaf step, outputs: the run's output is `{ save: SavedReport }`. */
export interface SavedReport {
  readonly url: string;
  readonly title: string;
  readonly keywords: readonly string[];
  readonly links: { readonly ok: number; readonly broken: string[]; readonly external: number };
  readonly savedAt: string;
}

/**
 * Analyzes a web page:
 *
 * ```
 * website ─┬─ summary ───────────────┐
 *          ├─ keywords ──────────────┤
 *          └─ links ── link (map) ───┴─ save
 * ```
 * `website` fetches the page; `summary`, `keywords` and `links` then run in parallel; `link` checks
 * each link in a task of its own; `save` waits for all of them and writes the report.
 *
 * Every task gets 3 attempts, 1 s before the first retry (then 2 s), and 30 s before a task that
 * neither completes nor fails counts as stalled and is retried. The summarizer refuses every first
 * attempt (a simulated rate limit), so each run shows a retry.
 */
@Flow({ slug: 'analyze_website', maxAttempts: 3, baseDelay: 1, timeout: 30 })
export class AnalyzeWebsiteFlow {
  constructor(
    private readonly pages: PageFetcher,
    private readonly summarizer: Summarizer,
    private readonly keywordExtractor: KeywordExtractor,
    private readonly linkChecker: LinkChecker,
    private readonly reports: ReportStore,
  ) {}

  /** The root step: it receives the run's input. Fetching a local file takes one attempt or never works. */
  @Step({ maxAttempts: 1 })
  website(input: AnalyzeWebsiteInput): Promise<Page> {
    return this.pages.fetch(input.url);
  }

  /** Fails on its first attempt (see Summarizer), succeeds on the retry. */
  @Step({ dependsOn: ['website'] })
  summary(deps: StepInput<AnalyzeWebsiteFlow, 'website'>, ctx: StepContext<AnalyzeWebsiteInput>): Summary {
    return this.summarizer.summarize(deps.website, { attempt: ctx.attempt });
  }

  @Step({ dependsOn: ['website'] })
  keywords(deps: StepInput<AnalyzeWebsiteFlow, 'website'>): string[] {
    return this.keywordExtractor.extract(deps.website.text);
  }

  /** The page's links as absolute URLs: the array the `link` map step runs over. */
  @Step({ dependsOn: ['website'] })
  links(deps: StepInput<AnalyzeWebsiteFlow, 'website'>): string[] {
    return resolveLinks(deps.website);
  }

  /** A map step: one task per element of `links`' output; their outputs arrive at `save` as an array. */
  @Step({ dependsOn: ['links'], map: true, timeout: 10 })
  link(url: MapItem<AnalyzeWebsiteFlow, 'links'>, _ctx: MapStepContext<AnalyzeWebsiteInput>): LinkCheck {
    return this.linkChecker.check(url);
  }

  /** The fan-in: runs once every step it depends on has completed. */
  @Step({ dependsOn: ['website', 'summary', 'keywords', 'link'] })
  save(
    deps: StepInput<AnalyzeWebsiteFlow, 'website' | 'summary' | 'keywords' | 'link'>,
    ctx: StepContext<AnalyzeWebsiteInput>,
  ): SavedReport {
    const report = this.reports.save({
      runId: ctx.runId,
      url: deps.website.url,
      title: deps.website.title,
      summary: deps.summary.text,
      keywords: deps.keywords,
      links: deps.link,
      savedAt: new Date().toISOString(),
    });
    return {
      url: report.url,
      title: report.title,
      keywords: report.keywords,
      links: {
        ok: deps.link.filter((check) => check.status === 'ok').length,
        broken: deps.link.filter((check) => check.status === 'broken').map((check) => check.url),
        external: deps.link.filter((check) => check.status === 'external').length,
      },
      savedAt: report.savedAt,
    };
  }
}
