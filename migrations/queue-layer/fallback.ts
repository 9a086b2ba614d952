/**
 * The fallback: the pgmq 1.5 SQL API (spec/pgmq.md) as plain SQL and PL/pgSQL in schema pgmq, for
 * servers without the extension. Written for this project from the spec and pgmq's published
 * documentation.
 */
import { archiveManyFunction, archiveOneFunction } from './functions/archive.ts';
import { createFunction, createUnloggedFunction } from './functions/create.ts';
import { createPartitionedFunction } from './functions/create-partitioned.ts';
import { deleteManyFunction, deleteOneFunction } from './functions/delete.ts';
import { detachArchiveFunction } from './functions/detach-archive.ts';
import { dropQueueFunction } from './functions/drop-queue.ts';
import { formatTableNameFunction } from './functions/format-table-name.ts';
import { listQueuesFunction } from './functions/list-queues.ts';
import { metricsFunction } from './functions/metrics.ts';
import { metricsAllFunction } from './functions/metrics-all.ts';
import { popFunction } from './functions/pop.ts';
import { purgeQueueFunction } from './functions/purge-queue.ts';
import { readFunction } from './functions/read.ts';
import { readWithPollFunction } from './functions/read-with-poll.ts';
import { sendFunctions } from './functions/send.ts';
import { sendBatchFunctions } from './functions/send-batch.ts';
import { setVtFunction } from './functions/set-vt.ts';
import { validateQueueNameFunction } from './functions/validate-queue-name.ts';
import { metaTable } from './meta-table.ts';
import { commentOnSchema, createSchema, dropSchema } from './schema.ts';
import { messageRecordType, metricsResultType, queueRecordType } from './types.ts';

/** In dependency order: schema, types, table, then functions (callees before callers). */
export const fallbackUp: readonly string[] = [
  createSchema,
  commentOnSchema,
  messageRecordType,
  queueRecordType,
  metricsResultType,
  metaTable,
  formatTableNameFunction,
  validateQueueNameFunction,
  createFunction,
  createUnloggedFunction,
  createPartitionedFunction,
  ...sendFunctions,
  ...sendBatchFunctions,
  readFunction,
  readWithPollFunction,
  popFunction,
  archiveOneFunction,
  archiveManyFunction,
  deleteOneFunction,
  deleteManyFunction,
  setVtFunction,
  purgeQueueFunction,
  dropQueueFunction,
  listQueuesFunction,
  metricsFunction,
  metricsAllFunction,
  detachArchiveFunction,
  // New functions are executable by PUBLIC by default; the queue layer grants nothing to anyone.
  'revoke execute on all functions in schema pgmq from public',
];

/** The schema holds everything the fallback made, queues included. */
export const fallbackDown: readonly string[] = [dropSchema];
