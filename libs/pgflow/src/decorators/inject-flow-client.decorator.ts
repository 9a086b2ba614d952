import { Inject } from '@nestjs/common';
import { getFlowClientToken } from '../pgflow.constants.ts';

/**
 * Injects the FlowClient of one PgflowModule registration, the one on TypeORM DataSource
 * `dataSource` [the default one]: it starts, waits for and reads runs in that database only (a slug
 * the application has no class for goes there too). Inject `FlowClient` itself for the client that
 * routes each flow to its registration's database.
 */
export function InjectFlowClient(dataSource?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getFlowClientToken(dataSource));
}
