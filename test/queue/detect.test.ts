/** The queue layer decision on its own, for every combination a server can present. */
import { atLeast, chooseImplementation, type PgmqState, pgmqMode } from '../../migrations/queue-layer/detect.ts';

const bare: PgmqState = { available: null, installed: null, schemaExists: false, schemaComment: null };
const offered: PgmqState = { ...bare, available: '1.5.1' };

describe('PGFLOW_PGMQ', () => {
  it('defaults to auto when unset or empty', () => {
    expect(pgmqMode({})).toBe('auto');
    expect(pgmqMode({ PGFLOW_PGMQ: ' ' })).toBe('auto');
  });

  it('accepts auto, extension and fallback in any case', () => {
    expect(pgmqMode({ PGFLOW_PGMQ: 'Extension' })).toBe('extension');
    expect(pgmqMode({ PGFLOW_PGMQ: 'fallback' })).toBe('fallback');
    expect(pgmqMode({ PGFLOW_PGMQ: 'AUTO' })).toBe('auto');
  });

  it('rejects any other value, naming it and the allowed ones', () => {
    expect(() => pgmqMode({ PGFLOW_PGMQ: 'yes' })).toThrow(
      'PGFLOW_PGMQ="yes" is not a valid queue layer mode. Set PGFLOW_PGMQ to one of auto, extension, fallback',
    );
  });
});

describe('choosing the queue layer', () => {
  it('auto takes the extension when the server offers pgmq 1.5 or newer', () => {
    expect(chooseImplementation('auto', offered)).toBe('extension');
    expect(chooseImplementation('auto', { ...bare, available: '1.10.0' })).toBe('extension');
  });

  it('auto takes the fallback when the server has no pgmq, or one older than 1.5', () => {
    expect(chooseImplementation('auto', bare)).toBe('fallback');
    expect(chooseImplementation('auto', { ...bare, available: '1.4.5' })).toBe('fallback');
  });

  it('auto keeps an extension already installed in the database', () => {
    expect(chooseImplementation('auto', { ...offered, installed: '1.5.1', schemaExists: true })).toBe('extension');
  });

  it('refuses an installed extension older than 1.5, saying how to update it', () => {
    expect(() => chooseImplementation('auto', { ...offered, installed: '1.4.0', schemaExists: true })).toThrow(
      /needs pgmq 1\.5 or newer\. Run ALTER EXTENSION pgmq UPDATE/,
    );
  });

  it('extension fails on a server without pgmq, and on one with only an older pgmq', () => {
    expect(() => chooseImplementation('extension', bare)).toThrow(/this PostgreSQL server does not offer pgmq/);
    expect(() => chooseImplementation('extension', { ...bare, available: '1.4.0' })).toThrow(
      /this PostgreSQL server offers only pgmq 1\.4\.0/,
    );
  });

  it('fallback takes the fallback even where the server offers the extension', () => {
    expect(chooseImplementation('fallback', offered)).toBe('fallback');
  });

  it('fallback refuses a database where the extension is installed', () => {
    expect(() => chooseImplementation('fallback', { ...offered, installed: '1.5.1', schemaExists: true })).toThrow(
      /already has the pgmq extension \(version 1\.5\.1\)/,
    );
  });

  it('refuses a schema pgmq that is neither the extension nor the fallback', () => {
    expect(() => chooseImplementation('auto', { ...bare, schemaExists: true })).toThrow(
      /a schema named pgmq that is neither the pgmq extension nor the pgflow fallback/,
    );
  });

  it('accepts a schema pgmq that already holds the fallback (another process migrated first)', () => {
    const migrated = { ...bare, schemaExists: true, schemaComment: 'pgflow fallback: ...' };
    expect(chooseImplementation('auto', migrated)).toBe('fallback');
  });
});

describe('version comparison', () => {
  it('compares dotted versions numerically', () => {
    expect(atLeast('1.5', '1.5')).toBe(true);
    expect(atLeast('1.5.0', '1.5')).toBe(true);
    expect(atLeast('1.10.0', '1.5')).toBe(true);
    expect(atLeast('2.0', '1.5')).toBe(true);
    expect(atLeast('1.4.9', '1.5')).toBe(false);
  });
});
