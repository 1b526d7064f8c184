/** The notify settings from the environment: targets, the secret, the link bases; each mistake names its variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { linkKeyFrom } from '../../src/links/index.js';
import { createNotifyActivities, notifyConfigFromEnv } from '../../src/notify/index.js';

const secret = `whsec_${Buffer.from('a secret of twenty-four b').toString('base64')}`;

describe('notifyConfigFromEnv', () => {
  it('has no targets, and needs no secret, when TRELLIS_WEBHOOKS is empty or unset', () => {
    for (const env of [{}, { TRELLIS_WEBHOOKS: '' }, { TRELLIS_WEBHOOKS: ' , ' }]) {
      expect(notifyConfigFromEnv(env)).toEqual({
        targets: [],
        links: { publicUrl: 'http://127.0.0.1:8080', temporalUiUrl: 'http://localhost:8233', namespace: 'default' },
      });
    }
  });

  it('reads webhook and Slack targets, by prefix or by host, once each, named without their secrets', () => {
    const config = notifyConfigFromEnv({
      TRELLIS_WEBHOOKS:
        'https://hooks.example.com/trellis?token=abc#x, slack:https://chat.example.com/hook/SECRET,https://hooks.slack.com/services/T1/B2/SECRET2,https://hooks.example.com/trellis?token=abc#x',
      TRELLIS_WEBHOOK_SECRET: secret,
    });
    expect(config.targets).toEqual([
      { url: 'https://hooks.example.com/trellis?token=abc#x', kind: 'webhook', name: 'https://hooks.example.com/trellis' },
      { url: 'https://chat.example.com/hook/SECRET', kind: 'slack', name: 'slack:https://chat.example.com/hook/…' },
      { url: 'https://hooks.slack.com/services/T1/B2/SECRET2', kind: 'slack', name: 'slack:https://hooks.slack.com/services/T1/B2/…' },
    ]);
    expect(config.secret).toBe(secret);
  });

  it('gives targets that differ only in a secret part names of their own', () => {
    const { targets } = notifyConfigFromEnv({
      TRELLIS_WEBHOOKS: 'https://hooks.slack.com/services/T1/B2/one,https://hooks.slack.com/services/T1/B2/two',
      TRELLIS_WEBHOOK_SECRET: secret,
    });
    expect(targets.map((t) => t.name)).toEqual([
      'slack:https://hooks.slack.com/services/T1/B2/…',
      'slack:https://hooks.slack.com/services/T1/B2/… (2)',
    ]);
  });

  it('reads the link bases, the namespace and the decision key (as the link key)', () => {
    const config = notifyConfigFromEnv({
      TRELLIS_PUBLIC_URL: 'https://trellis.example.com/base/',
      TRELLIS_TEMPORAL_UI_URL: 'https://temporal.example.com',
      TEMPORAL_NAMESPACE: 'prod',
      TRELLIS_DECISION_KEY: 'k',
    });
    expect(config.links).toEqual({
      publicUrl: 'https://trellis.example.com/base',
      temporalUiUrl: 'https://temporal.example.com',
      namespace: 'prod',
      linkKey: linkKeyFrom('k'),
    });
  });

  it('names the variable for each mistake, without echoing a webhook URL', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ TRELLIS_WEBHOOKS: 'https://ok.example.com,not a url', TRELLIS_WEBHOOK_SECRET: secret }, /^TRELLIS_WEBHOOKS: entry 2 is not a URL/],
      [
        { TRELLIS_WEBHOOKS: 'ftp://files.example.com/x', TRELLIS_WEBHOOK_SECRET: secret },
        /^TRELLIS_WEBHOOKS: entry 1 must be an http or https URL, got the scheme "ftp"/,
      ],
      [{ TRELLIS_WEBHOOKS: 'slack:javascript:alert(1)', TRELLIS_WEBHOOK_SECRET: secret }, /^TRELLIS_WEBHOOKS: entry 1 must be an http or https URL/],
      [
        { TRELLIS_WEBHOOKS: 'https://user:pw@ok.example.com', TRELLIS_WEBHOOK_SECRET: secret },
        /^TRELLIS_WEBHOOKS: entry 1 has a user name or password/,
      ],
      [{ TRELLIS_WEBHOOKS: 'https://hooks.example.com' }, /^TRELLIS_WEBHOOK_SECRET must be set when TRELLIS_WEBHOOKS is/],
      [{ TRELLIS_WEBHOOK_SECRET: 'c2VjcmV0' }, /^TRELLIS_WEBHOOK_SECRET must start with whsec_/],
      [{ TRELLIS_WEBHOOK_SECRET: 'whsec_' }, /^TRELLIS_WEBHOOK_SECRET must be whsec_ followed by base64/],
      [{ TRELLIS_WEBHOOK_SECRET: 'whsec_not base64!' }, /^TRELLIS_WEBHOOK_SECRET must be whsec_ followed by base64/],
      [{ TRELLIS_WEBHOOK_SECRET: 'whsec_c2VjcmV0a' }, /^TRELLIS_WEBHOOK_SECRET must be whsec_ followed by base64/],
      [{ TRELLIS_PUBLIC_URL: 'trellis.example.com' }, /^TRELLIS_PUBLIC_URL: "trellis.example.com" is not a URL/],
      [{ TRELLIS_PUBLIC_URL: 'file:///tmp' }, /^TRELLIS_PUBLIC_URL: "file:\/\/\/tmp" must be an http or https URL/],
      [{ TRELLIS_PUBLIC_URL: 'https://x.example.com/?a=1' }, /^TRELLIS_PUBLIC_URL must be a base URL/],
      [{ TRELLIS_TEMPORAL_UI_URL: 'localhost:8233' }, /^TRELLIS_TEMPORAL_UI_URL: .* must be an http or https URL/],
    ];
    for (const [env, message] of cases) {
      let error: unknown;
      try {
        notifyConfigFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/ok\.example|files\.example|alert/);
    }
  });

  it('is refused by createNotifyActivities when it has targets and no secret', () => {
    const config = notifyConfigFromEnv({});
    expect(() => createNotifyActivities({ ...config, targets: [{ url: 'http://x', kind: 'webhook', name: 'http://x' }] })).toThrow(ConfigError);
    expect(() => createNotifyActivities(config)).not.toThrow();
  });
});
