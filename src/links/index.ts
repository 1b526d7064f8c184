/** Signed approval links and the addresses notifications and the inbox point people to. */
export {
  MAX_APPROVAL_TOKEN_LENGTH,
  linkKeyFrom,
  readApprovalLink,
  signApprovalLink,
  type ApprovalLinkCode,
  type ApprovalLinkFields,
  type ApprovalLinkRead,
} from './approval-link.js';
export { approvalLinkUrl, inboxRunUrl, temporalUiRunUrl } from './urls.js';
