/**
 * The inbox's one script, served as /inbox/assets/live.js (the CSP allows scripts from this origin only): it
 * follows a run's event stream (GET /v1/runs/{id}/events; EventSource sends the session cookie, and resumes with
 * Last-Event-ID after a drop) and appends a line per event to the run page. Text goes in with textContent only, so
 * nothing a run says is ever read as HTML. A question that starts waiting after the page was shown (a goal run's
 * new plan after a denial) gets a notice with a link that reloads the page to answer it.
 */
export const LIVE_SCRIPT = `'use strict';
(function () {
  var data = document.getElementById('live-data');
  var list = document.getElementById('progress');
  var note = document.getElementById('progress-note');
  var notice = document.getElementById('live-notice');
  if (!data || !list || !note || !notice || typeof EventSource === 'undefined') return;
  var live = JSON.parse(data.textContent);
  var key = function (step, askedAt) { return step + ' ' + (askedAt || ''); };
  var shown = {};
  live.shown.forEach(function (p) { shown[key(p.step, p.askedAt)] = true; });
  var open = {};
  var words = {
    'step.started': function (e) { return e.step + ' started' + (e.data && e.data.kind ? ' (' + e.data.kind + ')' : ''); },
    'step.completed': function (e) { return e.step + ' ' + ((e.data && e.data.status) || 'completed'); },
    'step.failed': function (e) { return e.step + ' failed' + (e.data && e.data.reason ? ': ' + e.data.reason : ''); },
    'step.waiting': function (e) { return e.step + ' waits for a person: ' + ((e.data && e.data.title) || ''); },
    'step.decided': function (e) {
      var d = e.data || {};
      return e.step + ' ' + (d.approved ? 'approved' : 'denied') + ' by ' + (d.by || 'the timeout') + (d.comment ? ': "' + d.comment + '"' : '');
    },
    'run.ended': function (e) { return 'the run ' + ((e.data && e.data.status) || 'ended') + (e.data && e.data.error ? ': ' + e.data.error : ''); },
  };
  var showNotice = function () {
    notice.textContent = '';
    var waiting = Object.keys(open).map(function (k) { return open[k]; });
    if (waiting.length === 0) return;
    var p = document.createElement('p');
    p.className = 'flash ok';
    p.append(waiting.map(function (w) { return '"' + w + '"'; }).join(', ') + ' now waits for an answer. ');
    var a = document.createElement('a');
    a.href = location.pathname;
    a.textContent = 'Reload to answer';
    p.append(a);
    notice.append(p);
  };
  var source = new EventSource(live.events);
  source.onopen = function () { note.textContent = 'Following the run as it goes.'; };
  Object.keys(words).forEach(function (type) {
    source.addEventListener(type, function (m) {
      var e = JSON.parse(m.data);
      var li = document.createElement('li');
      var t = document.createElement('time');
      t.dateTime = e.at;
      t.textContent = new Date(e.at).toLocaleTimeString();
      li.append(t, ' ', words[type](e));
      list.append(li);
      if (type === 'step.waiting' && !shown[key(e.step, e.data && e.data.askedAt)]) open[e.step] = (e.data && e.data.title) || e.step;
      if (type === 'step.decided') delete open[e.step];
      if (type === 'step.waiting' || type === 'step.decided') showNotice();
      if (type === 'run.ended') {
        source.close();
        note.textContent = 'The run has ended.';
      }
    });
  });
  source.onerror = function () {
    note.textContent = source.readyState === EventSource.CLOSED ? 'Live progress stopped: reload the page to see the latest.' : 'Reconnecting…';
  };
})();
`;
