/** TRELLIS_DEPLOYMENT_NAME and TRELLIS_BUILD_ID: unset is unversioned, a bad value is refused with its name. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ConfigError, deploymentFromEnv } from '../../src/config.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

describe('deploymentFromEnv', () => {
  it('is unversioned without a deployment name', () => {
    expect(deploymentFromEnv({})).toBeUndefined();
    expect(deploymentFromEnv({ TRELLIS_DEPLOYMENT_NAME: '' })).toBeUndefined();
  });

  it("takes the build id, else the package's version", () => {
    expect(deploymentFromEnv({ TRELLIS_DEPLOYMENT_NAME: 'trellis', TRELLIS_BUILD_ID: '2026-12-02.1' })).toEqual({
      deploymentName: 'trellis',
      buildId: '2026-12-02.1',
    });
    expect(deploymentFromEnv({ TRELLIS_DEPLOYMENT_NAME: 'trellis' })).toEqual({ deploymentName: 'trellis', buildId: version });
  });

  it.each([
    [{ TRELLIS_BUILD_ID: 'b1' }, 'TRELLIS_BUILD_ID is set but TRELLIS_DEPLOYMENT_NAME is not'],
    [{ TRELLIS_DEPLOYMENT_NAME: 'my deployment' }, 'TRELLIS_DEPLOYMENT_NAME must hold no spaces'],
    [{ TRELLIS_DEPLOYMENT_NAME: 'trellis', TRELLIS_BUILD_ID: 'b1\n' }, 'TRELLIS_BUILD_ID must hold no spaces or control characters'],
    [{ TRELLIS_DEPLOYMENT_NAME: 'trellis', TRELLIS_BUILD_ID: 'b'.repeat(256) }, 'TRELLIS_BUILD_ID must be at most 255 characters, got 256'],
  ])('refuses %j', (env, message) => {
    expect(() => deploymentFromEnv(env)).toThrow(ConfigError);
    expect(() => deploymentFromEnv(env)).toThrow(message);
  });
});
