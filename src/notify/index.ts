/** Notifications: the notify activity, and its pieces (settings, bodies, one delivery), each usable alone. */
export { createNotifyActivities, NOTIFY_FAILED, type NotifyActivityOptions, type NotifyResult } from './activity.js';
export {
  LINK_LIFETIME_MS,
  notificationLinks,
  slackBody,
  slackEscape,
  webhookBody,
  type NotificationLinks,
  type PersonLink,
  type SlackBlock,
  type SlackBody,
  type SlackButton,
  type SlackText,
  type WebhookBody,
  type WebhookData,
} from './body.js';
export {
  DEFAULT_PUBLIC_URL,
  DEFAULT_TEMPORAL_UI_URL,
  notifyConfigFromEnv,
  type LinkSettings,
  type NotifyConfig,
  type NotifyTarget,
} from './config.js';
export { DELIVERY_TIMEOUT_MS, deliver, webhookHeaders, type Delivery, type DeliveryOutcome } from './deliver.js';
