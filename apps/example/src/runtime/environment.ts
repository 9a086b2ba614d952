/** The settings `npm start` reads from the environment, checked. */

/** The HTTP port from PORT: 3000 when unset, 0 for any free port. */
export function readPort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number from 0 to 65535 (0: any free port), got '${value}'.`);
  }
  return port;
}

/** The embedded server's data folder under .pgdata/ from EXAMPLE_PGDATA: `example` when unset. */
export function readDataFolder(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return 'example';
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(value)) {
    throw new Error(
      `EXAMPLE_PGDATA must be a folder name (letters, digits, '.', '_', '-'; it goes under .pgdata/), got '${value}'.`,
    );
  }
  return value;
}

/** The dashboard's password from PGFLOW_DASHBOARD_TOKEN: undefined (dashboard refused) when unset. */
export function readDashboardToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < 12) {
    throw new Error("PGFLOW_DASHBOARD_TOKEN must be at least 12 characters long (it is the dashboard's password).");
  }
  return value;
}
