/**
 * The README's quick start, booted as written (test/readme/fixtures/app.module.ts reads
 * DATABASE_URL when it is imported, so the test points it at its own database first).
 */
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RunEntity } from 'nestjs-pgflow';
import { DataSource } from 'typeorm';
import { useTestDatabase } from '../support/test-database.ts';

const db = useTestDatabase();
let app: INestApplication | undefined;
const savedUrl = process.env.DATABASE_URL;

afterAll(async () => {
  await app?.close();
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
});

it('boots the quick-start module and runs the welcome flow through SignupService', async () => {
  process.env.DATABASE_URL = db.url;
  const { AppModule } = await import('./fixtures/app.module.ts');
  const { SignupService } = await import('./fixtures/signup.service.ts');
  app = await NestFactory.create(AppModule, { logger: false });
  await app.init();

  const result = await app.get(SignupService).signUp('ada', 'ada@example.com');

  expect(result).toEqual({ messageId: 'ada@example.com:25' });
  const runs = await app.get(DataSource).getRepository(RunEntity).find();
  expect(runs).toEqual([expect.objectContaining({ flowSlug: 'welcome_user', status: 'completed' })]);
});
