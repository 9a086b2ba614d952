/**
 * Checks of run inputs that the HTTP API applies before starting a run, so that a malformed input
 * gets a 400 instead of a run that fails. (The library itself checks only what every flow needs: the
 * input is JSON, and an array when the flow has a root map step.)
 */
import type { FlowClass } from 'nestjs-pgflow';
import { AnalyzeWebsiteFlow } from './analyze-website.flow.ts';
import { TenantReportFlow } from './tenant-report.flow.ts';

/** Says what is wrong with an input, or returns undefined when it is fine. */
export type FlowInputCheck = (input: unknown) => string | undefined;

function checkAnalyzeWebsiteInput(input: unknown): string | undefined {
  const example = 'e.g. { "url": "https://example.com/docs" }';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return `the input must be an object with the page's url, ${example}`;
  }
  const { url, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `unknown field '${unknown[0]}' in the input: it has only a url, ${example}`;
  if (url === undefined) return `input.url is missing: ${example}`;
  if (typeof url !== 'string') return `input.url must be a string, got ${JSON.stringify(url)}: ${example}`;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    return `input.url must be an absolute http(s) URL, got ${JSON.stringify(url)}: ${example}`;
  }
  return undefined;
}

function checkTenantReportInput(input: unknown): string | undefined {
  const example = 'e.g. { "tenant": "acme", "urls": ["https://example.com/docs"] }';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return `the input must be an object with the tenant and its urls, ${example}`;
  }
  const { tenant, urls, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `unknown field '${unknown[0]}' in the input: it has only tenant and urls, ${example}`;
  if (tenant === undefined) return `input.tenant is missing: ${example}`;
  // The tenant is the run's concurrency key: 1 to 255 characters.
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 255) {
    return `input.tenant must be a string of 1 to 255 characters, got ${JSON.stringify(tenant)}: ${example}`;
  }
  if (!Array.isArray(urls) || urls.some((url) => typeof url !== 'string')) {
    return `input.urls must be an array of strings, got ${JSON.stringify(urls)}: ${example}`;
  }
  return undefined;
}

/** The checks, by flow class. */
export const FLOW_INPUT_CHECKS: ReadonlyMap<FlowClass, FlowInputCheck> = new Map<FlowClass, FlowInputCheck>([
  [AnalyzeWebsiteFlow, checkAnalyzeWebsiteInput],
  [TenantReportFlow, checkTenantReportInput],
]);
