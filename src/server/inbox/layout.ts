/**
 * The page around every inbox and approval-link page: one column that fits a phone (375 px) without sideways
 * scrolling, visible focus for keyboard use, the flash message, and the sign-out form when someone is signed in.
 * Everything interpolated goes through hono/html's `html`, which escapes it.
 */
import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Flash, InboxEnv } from './http.js';

/** A fragment of a page, as `html` makes it. */
export type Fragment = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What one page shows, beside the shell. */
export interface PageOptions {
  /** The document's title and the page's heading. */
  title: string;
  body: Fragment;
  /** Who is signed in, and the CSRF token of the sign-out form; absent on the sign-in and approval-link pages. */
  session?: { who: string; csrf: string };
  flash?: Flash;
  status?: ContentfulStatusCode;
}

/** The response of one page. */
export function page(c: Context<InboxEnv>, { title, body, session, flash, status = 200 }: PageOptions): Response | Promise<Response> {
  const nonce = c.get('secureHeadersNonce');
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>${title} · Trellis</title>
          <style nonce="${nonce}">
            ${raw(STYLE)}
          </style>
        </head>
        <body>
          <header class="bar">
            <a class="brand" href="/inbox">Trellis inbox</a>
            ${
              session
                ? html`<form method="post" action="/inbox/logout" class="who">
                    <span>Signed in as <strong>${session.who}</strong></span>
                    <input type="hidden" name="csrf" value="${session.csrf}" />
                    <button type="submit" class="quiet">Sign out</button>
                  </form>`
                : ''
            }
          </header>
          <main>
            <h1>${title}</h1>
            ${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''} ${body}
          </main>
        </body>
      </html>`,
    status,
  );
}

// One column, wrapping long text (ids, JSON, tokens) instead of widening the page; 44 px targets; a focus ring that
// shows on every control.
const STYLE = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1c1c1c; background: #f6f6f4; overflow-wrap: anywhere; }
main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.25rem; }
a { color: #0b57d0; }
.bar { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; padding: 0.5rem 1rem; background: #1f2d3d; color: #fff; }
.bar a, .bar strong { color: #fff; }
.brand { font-weight: 600; text-decoration: none; }
.who { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0; }
.card { background: #fff; border: 1px solid #d6d6d2; border-radius: 8px; padding: 1rem; margin: 0 0 1rem; }
.items { list-style: none; padding: 0; margin: 0; }
.meta { color: #555; font-size: 0.9rem; margin: 0.25rem 0; }
dl.args { display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr); gap: 0.25rem 1rem; margin: 0.5rem 0; }
dl.args dt { font-weight: 600; }
dl.args dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f0f0ec; padding: 0.5rem; border-radius: 4px; margin: 0.5rem 0; font-size: 0.9rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
label { display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }
textarea, input[type="password"], input[type="text"] { display: block; width: 100%; font: inherit; padding: 0.5rem; border: 1px solid #8a8a85; border-radius: 4px; background: #fff; }
textarea { min-height: 5rem; resize: vertical; }
.buttons { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 0.75rem; }
button { font: inherit; min-height: 44px; min-width: 44px; padding: 0.5rem 1.25rem; border-radius: 6px; border: 2px solid #1f2d3d; background: #fff; color: #1f2d3d; cursor: pointer; }
button.approve { background: #146c2e; border-color: #146c2e; color: #fff; }
button.deny { background: #fff; border-color: #a50e0e; color: #a50e0e; }
button.picked { box-shadow: 0 0 0 4px #9ec1f7; }
button.quiet { min-height: 36px; padding: 0.25rem 0.75rem; background: transparent; color: #fff; border-color: #fff; }
:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
.bar :focus-visible { outline-color: #f2c94c; }
.flash { padding: 0.75rem 1rem; border-radius: 6px; border: 1px solid; }
.flash.ok { background: #e6f4ea; border-color: #146c2e; }
.flash.error { background: #fce8e6; border-color: #a50e0e; }
.flash.info { background: #e8f0fe; border-color: #0b57d0; }
.hint { margin: 0 0 0.25rem; }
.steps, .progress { padding-left: 1.25rem; margin: 0.5rem 0; }
.status { display: inline-block; padding: 0 0.5rem; border-radius: 999px; font-size: 0.85rem; background: #e8e8e4; }
.status.waiting { background: #fff4ce; }
.status.completed { background: #e6f4ea; }
.status.failed, .status.cancelled { background: #fce8e6; }
.progress time { color: #555; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem; }
`;
