/**
 * Where notifications go and what their links point at, from the worker's environment: TRELLIS_WEBHOOKS,
 * TRELLIS_WEBHOOK_SECRET, TRELLIS_PUBLIC_URL, TRELLIS_DECISION_KEY, TRELLIS_TEMPORAL_UI_URL (and TEMPORAL_NAMESPACE,
 * for the Temporal UI link).
 */
import { Webhook } from 'standardwebhooks';
import { baseUrlSetting, ConfigError, httpUrlSetting, temporalConfigFromEnv } from '../config.js';
import { linkKeyFrom } from '../links/approval-link.js';

/** One receiver of notifications. */
export interface NotifyTarget {
  /** Where to POST, as configured (without a `slack:` prefix). Holds whatever secret the URL holds: never log it. */
  url: string;
  /** 'slack': a Slack incoming webhook, sent a Slack message; 'webhook': sent the Standard Webhooks body. */
  kind: 'webhook' | 'slack';
  /**
   * The target in logs, errors and the activity's result: the URL without its query or fragment (and a
   * Slack URL without its secret last part), unique among the targets.
   */
  name: string;
}

/** What links in a notification point at. */
export interface LinkSettings {
  /** Base URL of `trellis serve` (TRELLIS_PUBLIC_URL), without a trailing slash. */
  publicUrl: string;
  /** Base URL of the Temporal UI (TRELLIS_TEMPORAL_UI_URL), without a trailing slash. */
  temporalUiUrl: string;
  /** The Temporal namespace runs are in, for the UI link. */
  namespace: string;
  /** The key for signed approval links (linkKeyFrom(TRELLIS_DECISION_KEY)); without it, only the inbox link. */
  linkKey?: string;
}

export interface NotifyConfig {
  targets: NotifyTarget[];
  /** The Standard Webhooks secret, `whsec_` and base64 (TRELLIS_WEBHOOK_SECRET); required with targets. */
  secret?: string;
  links: LinkSettings;
}

export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TEMPORAL_UI_URL = 'http://localhost:8233';

const SLACK_PREFIX = 'slack:';
const SLACK_HOST = 'hooks.slack.com';
/** Standard base64 with its padding, as the Standard Webhooks libraries decode a secret. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The notify settings from the environment. TRELLIS_WEBHOOKS empty or unset: no targets (and no secret needed).
 * Throws ConfigError, naming the variable, for an entry that is not an http(s) URL, a missing secret, or a secret
 * that is not `whsec_` and base64; and for a TRELLIS_PUBLIC_URL or TRELLIS_TEMPORAL_UI_URL that is not an http(s) URL.
 */
export function notifyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const targets = parseTargets(env.TRELLIS_WEBHOOKS ?? '');
  const secret = env.TRELLIS_WEBHOOK_SECRET || undefined;
  if (secret !== undefined) checkSecret(secret);
  else if (targets.length > 0) throw new ConfigError('TRELLIS_WEBHOOK_SECRET must be set when TRELLIS_WEBHOOKS is: notifications are signed with it');
  const decisionKey = env.TRELLIS_DECISION_KEY || undefined;
  return {
    targets,
    ...(secret !== undefined && { secret }),
    links: {
      publicUrl: baseUrlSetting('TRELLIS_PUBLIC_URL', env.TRELLIS_PUBLIC_URL || DEFAULT_PUBLIC_URL),
      temporalUiUrl: baseUrlSetting('TRELLIS_TEMPORAL_UI_URL', env.TRELLIS_TEMPORAL_UI_URL || DEFAULT_TEMPORAL_UI_URL),
      namespace: temporalConfigFromEnv(env).namespace,
      ...(decisionKey !== undefined && { linkKey: linkKeyFrom(decisionKey) }),
    },
  };
}

/** TRELLIS_WEBHOOKS: comma-separated URLs; `slack:URL`, or any URL on hooks.slack.com, is a Slack target. Repeats count once. */
function parseTargets(text: string): NotifyTarget[] {
  const targets: NotifyTarget[] = [];
  const names = new Set<string>();
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .forEach((entry, i) => {
      const slackPrefixed = entry.toLowerCase().startsWith(SLACK_PREFIX);
      const raw = slackPrefixed ? entry.slice(SLACK_PREFIX.length) : entry;
      const url = httpUrlSetting('TRELLIS_WEBHOOKS', raw, `entry ${i + 1}`);
      // fetch refuses such a URL on every delivery: better said once, at start.
      if (url.username !== '' || url.password !== '')
        throw new ConfigError(`TRELLIS_WEBHOOKS: entry ${i + 1} has a user name or password in it, which is not sent`);
      if (targets.some((t) => t.url === url.href)) return;
      const kind = slackPrefixed || url.hostname === SLACK_HOST ? 'slack' : 'webhook';
      let name = publicName(url, kind);
      for (let n = 2; names.has(name); n++) name = `${publicName(url, kind)} (${n})`;
      names.add(name);
      targets.push({ url: url.href, kind, name });
    });
  return targets;
}

/** A URL fit to show: no query or fragment; a Slack webhook's last path part (its secret) hidden. */
function publicName(url: URL, kind: NotifyTarget['kind']): string {
  let path = url.pathname;
  if (kind === 'slack') path = path.replace(/\/[^/]+\/?$/, '/…');
  return `${kind === 'slack' ? SLACK_PREFIX : ''}${url.protocol}//${url.host}${path}`;
}

function checkSecret(secret: string): void {
  if (!secret.startsWith('whsec_'))
    throw new ConfigError('TRELLIS_WEBHOOK_SECRET must start with whsec_ (a Standard Webhooks secret: whsec_ and base64)');
  const key = secret.slice('whsec_'.length);
  if (key === '' || !BASE64.test(key))
    throw new ConfigError('TRELLIS_WEBHOOK_SECRET must be whsec_ followed by base64 (A-Z, a-z, 0-9, + and /, padded with =)');
  // The library's own check too: the secret it is given later must be one it takes.
  try {
    new Webhook(secret);
  } catch (error) {
    throw new ConfigError(`TRELLIS_WEBHOOK_SECRET is not a usable Standard Webhooks secret: ${(error as Error).message}`);
  }
}
