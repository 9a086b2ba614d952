import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__pgflowTestServer;
  if (!state) return;
  globalThis.__pgflowTestServer = undefined;
  try {
    const admin = new pg.Client({ connectionString: state.server.url, application_name: 'pgflow test harness' });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${admin.escapeIdentifier(state.template)} with (force)`);
    } finally {
      await admin.end();
    }
  } finally {
    await state.server.stop();
  }
}
