import { Injectable } from '@nestjs/common';
import type { LinkCheck } from './link-checker.service.ts';

/** The report the `save` step writes for a run. */
export interface WebsiteReport {
  readonly runId: string;
  readonly url: string;
  readonly title: string;
  readonly summary: string;
  readonly keywords: readonly string[];
  readonly links: readonly LinkCheck[];
  readonly savedAt: string;
}

/**
 * Where reports go. In memory to keep the example self-contained; a real application would write
 * them to a table of its own (in the same database as pgflow's, with its own migrations). Keyed by
 * run: a step may run more than once (a retry after a crash), so saving again replaces.
 */
@Injectable()
export class ReportStore {
  private readonly reports = new Map<string, WebsiteReport>();

  save(report: WebsiteReport): WebsiteReport {
    this.reports.set(report.runId, report);
    return report;
  }

  get(runId: string): WebsiteReport | undefined {
    return this.reports.get(runId);
  }
}
