import type { CanActivate } from '@nestjs/common';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { resolveDashboardOptions } from './dashboard-options.ts';
import { PgflowDashboardModule } from './pgflow-dashboard.module.ts';

class AllowAll implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

describe('PgflowDashboardModule options', () => {
  it('defaults to /pgflow, no guard, actions allowed', () => {
    expect(resolveDashboardOptions()).toEqual({ path: '/pgflow', guard: undefined, readOnly: false });
  });

  it('accepts a guard class or instance and a nested path', () => {
    const instance = new AllowAll();
    expect(resolveDashboardOptions({ path: '/admin/flows', guard: AllowAll, readOnly: true })).toEqual({
      path: '/admin/flows',
      guard: AllowAll,
      readOnly: true,
    });
    expect(resolveDashboardOptions({ guard: instance }).guard).toBe(instance);
  });

  it.each([
    [{ path: 'pgflow' }, 'path'],
    [{ path: '/pgflow/' }, 'path'],
    [{ path: '/pg flow' }, 'path'],
    [{ guard: class NotAGuard {} }, 'guard'],
    [{ guard: { allow: true } }, 'guard'],
    [{ readOnly: 'yes' }, 'readOnly'],
    [{ readonly: true }, 'readonly'],
  ])('refuses %p at boot, naming the option', (options, option) => {
    const boot = () => PgflowDashboardModule.forRoot(options as never);
    expect(boot).toThrow(InvalidOptionsError);
    expect(boot).toThrow(`Invalid PgflowDashboardModule option ${option}:`);
  });
});
